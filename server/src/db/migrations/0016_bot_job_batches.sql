-- A Subscription that batches its events (backport-max-count > 1) claims the rest of its due
-- events when one of them starts: the claim looks them up by subscription, in event order.
CREATE INDEX bot_job_by_subscription ON bot_job (subscription_id, id) WHERE state IN ('pending', 'queued');
