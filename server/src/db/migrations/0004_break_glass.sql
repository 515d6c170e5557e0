-- Emergency ("break-glass") access declarations: an admin or provider reads one patient's
-- record without a Consent, for a limited time, always audited, with the patient notified.
CREATE TABLE break_glass (
  id          uuid PRIMARY KEY,
  account_id  uuid NOT NULL REFERENCES account (id) ON DELETE CASCADE,
  actor       text NOT NULL,
  patient_id  text NOT NULL,
  reason      text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  ended_at    timestamptz
);
CREATE INDEX break_glass_account_idx ON break_glass (account_id, expires_at);
CREATE INDEX break_glass_patient_idx ON break_glass (patient_id, created_at);
