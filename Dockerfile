# Hale server image. The repo pins Node 24 as a devDependency; the image uses the same major.
FROM node:24-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
COPY server/package.json server/
COPY seed/package.json seed/
COPY bench/package.json bench/
COPY bots/package.json bots/
COPY web/package.json web/
COPY fhir-profiles/package.json fhir-profiles/
RUN npm ci --no-audit --no-fund --loglevel=error
COPY tsconfig.json ./
COPY server server
COPY fhir-profiles fhir-profiles
# The inbound-SMS webhook changes preferences with the bots' own functions (server/src/notify/sms-opt-out.ts).
COPY bots/src/lib bots/src/lib
USER node
EXPOSE 8103
STOPSIGNAL SIGTERM
CMD ["node", "--import", "tsx", "server/src/main.ts"]
