-- Bots: the delivery ledger of subscription and cron events (the outbox), the runs, and bot secrets.

-- One row per event to deliver, written in the same transaction as the resource version that caused it
-- (or, for cron, by the scheduler under a unique key), so a committed write always fires and a rolled
-- back one never does. `key` makes delivery idempotent: an event is enqueued, retried and run under it.
CREATE TABLE bot_job (
  id bigserial PRIMARY KEY,
  key text NOT NULL UNIQUE,
  kind text NOT NULL CHECK (kind IN ('subscription', 'cron')),
  subscription_id text,
  bot_id text,
  endpoint text,
  resource_type text,
  resource_id text,
  version_id integer,
  interaction text CHECK (interaction IN ('create', 'update', 'delete')),
  state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'queued', 'running', 'done', 'dead')),
  attempts integer NOT NULL DEFAULT 0,
  run_after timestamptz NOT NULL DEFAULT now(),
  locked_until timestamptz,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz
);
CREATE INDEX bot_job_due ON bot_job (run_after, id) WHERE state = 'pending';
CREATE INDEX bot_job_running ON bot_job (locked_until) WHERE state IN ('running', 'queued');
CREATE INDEX bot_job_dead ON bot_job (id) WHERE state = 'dead';

-- Secrets a bot receives in event.secrets. Never part of the Bot resource and never returned by a read.
CREATE TABLE bot_secret (
  bot_id text NOT NULL,
  name text NOT NULL,
  value text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (bot_id, name)
);
