-- Inbound SMS (the Twilio webhook) and SMS opt-outs.

-- One row per inbound message Twilio delivered, keyed by its MessageSid: Twilio retries a webhook it got no
-- answer to, and a retried STOP or HELP must be acted on once. Only the keyword is kept, never the message text.
CREATE TABLE sms_inbound (
  message_sid text PRIMARY KEY,
  from_number text NOT NULL,
  keyword text,
  received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sms_inbound_received ON sms_inbound (received_at);

-- Numbers (E.164) that sent STOP and not START since: /sms/v1/send refuses them, whatever the sender thinks.
CREATE TABLE sms_opt_out (
  phone text PRIMARY KEY,
  opted_out_at timestamptz NOT NULL DEFAULT now()
);
