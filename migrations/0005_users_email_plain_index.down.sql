DROP INDEX "users_email_key";
CREATE UNIQUE INDEX "users_email_key" ON "users" USING btree (lower("email"));
