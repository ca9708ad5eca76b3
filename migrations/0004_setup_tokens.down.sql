DROP TABLE IF EXISTS "setup_tokens";
