/*-------------------------------------------------------------------------
 *
 * webhook_sign.c
 *		Standard Webhooks signing primitives: HMAC-SHA256 and signing
 *		secrets (whsec_<base64>).
 *
 * HMAC comes from PostgreSQL's own common library (common/hmac.h, backed
 * by OpenSSL's HMAC when the server is built with OpenSSL, as Debian's
 * is), base64 from common/base64.h and the secret's bytes from
 * pg_strong_random(): nothing here implements a cryptographic primitive.
 *
 * The signed content and the header layout are assembled in SQL
 * (recgen.webhook_signature, sql/idempotent/84_delivery.sql) so that the
 * rule "id.timestamp.body" is readable in one place.
 *
 * Copyright (c) 2026, recgen developers
 *
 * IDENTIFICATION
 *		src/webhook_sign.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/base64.h"
#include "common/hmac.h"
#include "common/sha2.h"
#include "fmgr.h"
#include "utils/builtins.h"

/* Standard Webhooks: secrets of 24 to 64 bytes; we make 32 */
#define WEBHOOK_SECRET_BYTES 32

/*
 * recgen_hmac_sha256
 *		HMAC-SHA256 of message under key, as bytea (32 bytes).
 */
PG_FUNCTION_INFO_V1(recgen_hmac_sha256);
Datum
recgen_hmac_sha256(PG_FUNCTION_ARGS)
{
	bytea	   *key = PG_GETARG_BYTEA_PP(0);
	bytea	   *msg = PG_GETARG_BYTEA_PP(1);
	bytea	   *result;
	pg_hmac_ctx *ctx;
	uint8		digest[PG_SHA256_DIGEST_LENGTH];

	ctx = pg_hmac_create(PG_SHA256);
	if (ctx == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("could not create an HMAC context")));
	if (pg_hmac_init(ctx, (uint8 *) VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key)) < 0 ||
		pg_hmac_update(ctx, (uint8 *) VARDATA_ANY(msg), VARSIZE_ANY_EXHDR(msg)) < 0 ||
		pg_hmac_final(ctx, digest, sizeof(digest)) < 0)
	{
		const char *why = pg_hmac_error(ctx);
		char	   *copy = pstrdup(why ? why : "unknown error");

		pg_hmac_free(ctx);
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not compute an HMAC-SHA256"),
				 errdetail("%s", copy)));
	}
	pg_hmac_free(ctx);

	result = (bytea *) palloc(VARHDRSZ + sizeof(digest));
	SET_VARSIZE(result, VARHDRSZ + sizeof(digest));
	memcpy(VARDATA(result), digest, sizeof(digest));
	PG_RETURN_BYTEA_P(result);
}

/*
 * recgen_webhook_secret
 *		A new signing secret: "whsec_" and the base64 of 32 bytes from the
 *		operating system's strong random source.
 */
PG_FUNCTION_INFO_V1(recgen_webhook_secret);
Datum
recgen_webhook_secret(PG_FUNCTION_ARGS)
{
	char		raw[WEBHOOK_SECRET_BYTES];
	int			enclen = pg_b64_enc_len(WEBHOOK_SECRET_BYTES);
	char	   *out = palloc(6 + enclen + 1);
	int			n;

	if (!pg_strong_random(raw, sizeof(raw)))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate random bytes for a webhook secret")));
	memcpy(out, "whsec_", 6);
	n = pg_b64_encode(raw, sizeof(raw), out + 6, enclen);
	explicit_bzero(raw, sizeof(raw));
	if (n < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not encode a webhook secret")));
	out[6 + n] = '\0';
	PG_RETURN_TEXT_P(cstring_to_text(out));
}
