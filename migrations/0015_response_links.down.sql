-- Back to 0014: attempts without response links or answers.
ALTER TABLE "page_attempts" DROP CONSTRAINT IF EXISTS "page_attempts_answer_consistent";
ALTER TABLE "page_attempts" DROP COLUMN IF EXISTS "answer";
ALTER TABLE "page_attempts" DROP COLUMN IF EXISTS "answered_at";
ALTER TABLE "page_attempts" DROP COLUMN IF EXISTS "token_expires_at";
