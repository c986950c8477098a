/*-------------------------------------------------------------------------
 *
 * model_file.c
 *	  Model and tokenizer files: the setting vsim.model_directory, resolving
 *	  a path given at registration inside that directory, re-checking a
 *	  registered path, reading a file whole with its SHA-256, and the stamp
 *	  that tells a loaded model its file has changed.
 *
 * The model directory is the only place registration reads from, so that
 * roles allowed to register models cannot make the server read arbitrary
 * files.  A registered path is absolute and symlink-free; it is checked
 * again at every load, and the file's SHA-256 compared with the one
 * recorded at registration.  This file calls no other file of the
 * subsystem.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#if PG_VERSION_NUM >= 140000
#include "common/cryptohash.h"
#endif
#include "embed/embed.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/guc.h"

static char *model_directory = NULL;

void
embed_model_file_init(void)
{
	DefineCustomStringVariable("vsim.model_directory",
							   "Directory from which vsim.create_model reads model and tokenizer files.",
							   "Paths outside it, with \"..\", or through symbolic links leading out of it are refused.",
							   &model_directory,
							   "",
							   PGC_SUSET, 0, NULL, NULL, NULL);
}

/* ---------------------------------------------------------------------
 * Paths
 * ---------------------------------------------------------------------
 */

/* True if `path` has a ".." component. */
static bool
has_dotdot(const char *path)
{
	const char *p = path;

	while ((p = strstr(p, "..")) != NULL)
	{
		bool		starts = p == path || p[-1] == '/';
		bool		ends = p[2] == '\0' || p[2] == '/';

		if (starts && ends)
			return true;
		p += 2;
	}
	return false;
}

char *
embed_resolve_model_path(const char *given, const char *what)
{
	char		dir[PATH_MAX];
	char		real[PATH_MAX];
	char	   *full;
	size_t		dlen;

	if (model_directory == NULL || model_directory[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("vsim.model_directory is not set"),
				 errdetail("Model and tokenizer files are only read from that directory."),
				 errhint("A superuser sets it, for example with ALTER SYSTEM SET vsim.model_directory = '/srv/models'.")));
	if (realpath(model_directory, dir) == NULL)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not access model directory \"%s\": %m",
						model_directory)));
	if (given[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s file path must not be empty", what)));
	if (has_dotdot(given))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("%s file path \"%s\" must not contain \"..\"", what, given)));

	full = given[0] == '/' ? pstrdup(given) : psprintf("%s/%s", dir, given);
	if (realpath(full, real) == NULL)
	{
		if (errno == ENOENT)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_FILE),
					 errmsg("%s file \"%s\" does not exist", what, full)));
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not access %s file \"%s\": %m", what, full)));
	}
	dlen = strlen(dir);
	if (strncmp(real, dir, dlen) != 0 || real[dlen] != '/')
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("%s file \"%s\" is outside the model directory", what, given),
				 errdetail("It resolves to \"%s\"; vsim.model_directory is \"%s\".",
						   real, dir)));
	return pstrdup(real);
}

/*
 * Raise 42501 unless the registered absolute path `path` still resolves to
 * itself (no symbolic link was put in its way since registration), 58P01
 * when the file is gone.
 */
static void
check_registered_path(const char *path)
{
	char		real[PATH_MAX];

	if (realpath(path, real) == NULL)
	{
		if (errno == ENOENT)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_FILE),
					 errmsg("file \"%s\" of a registered model does not exist", path)));
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not access file \"%s\": %m", path)));
	}
	if (strcmp(real, path) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("file \"%s\" of a registered model now resolves to \"%s\"",
						path, real),
				 errhint("Register the model again if the move is intended.")));
}

/* ---------------------------------------------------------------------
 * Reading
 * ---------------------------------------------------------------------
 */

/* SHA-256 of data[0..len) into digest; `path` names the file in errors. */
static void
sha256(const char *path, const uint8 *data, size_t len,
	   uint8 digest[PG_SHA256_DIGEST_LENGTH])
{
#if PG_VERSION_NUM >= 140000
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);

	if (pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, data, len) < 0 ||
		pg_cryptohash_final(ctx, digest, PG_SHA256_DIGEST_LENGTH) < 0)
		elog(ERROR, "could not compute SHA-256 of \"%s\": %s", path,
			 pg_cryptohash_error(ctx));
	pg_cryptohash_free(ctx);
#else
	pg_sha256_ctx ctx;

	pg_sha256_init(&ctx);
	pg_sha256_update(&ctx, data, len);
	pg_sha256_final(&ctx, digest);
#endif
}

char *
embed_read_file(const char *path, size_t *len,
				char sha256_hex[PG_SHA256_DIGEST_STRING_LENGTH])
{
	int			fd;
	struct stat st;
	char	   *data;
	size_t		done = 0;
	uint8		digest[PG_SHA256_DIGEST_LENGTH];

	fd = OpenTransientFile(path, O_RDONLY | PG_BINARY);
	if (fd < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open file \"%s\": %m", path)));
	if (fstat(fd, &st) < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not stat file \"%s\": %m", path)));
	if (!S_ISREG(st.st_mode))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a regular file", path)));

	data = palloc_extended(st.st_size + 1, MCXT_ALLOC_HUGE);
	while (done < (size_t) st.st_size)
	{
		ssize_t		n = read(fd, data + done, st.st_size - done);

		if (n < 0)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not read file \"%s\": %m", path)));
		if (n == 0)
			break;
		done += n;
		CHECK_FOR_INTERRUPTS();
	}
	CloseTransientFile(fd);
	data[done] = '\0';

	sha256(path, (uint8 *) data, done, digest);
	for (int i = 0; i < PG_SHA256_DIGEST_LENGTH; i++)
		sprintf(sha256_hex + 2 * i, "%02x", digest[i]);
	*len = done;
	return data;
}

/* Fill *stamp from the file at `path`; false if it cannot be stat'ed. */
static bool
stamp_file(const char *path, EmbedFileStamp *stamp)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return false;
	stamp->size = st.st_size;
	stamp->mtime = st.st_mtime;
	stamp->ino = st.st_ino;
	return true;
}

bool
embed_file_changed(const char *path, const EmbedFileStamp *stamp)
{
	EmbedFileStamp now;

	return !stamp_file(path, &now) || now.size != stamp->size ||
		now.mtime != stamp->mtime || now.ino != stamp->ino;
}

char *
embed_read_verified(const char *path, const char *expected,
					const char *model, size_t *len, EmbedFileStamp *stamp)
{
	char		sha[PG_SHA256_DIGEST_STRING_LENGTH];
	char	   *data;

	check_registered_path(path);
	stamp_file(path, stamp);
	data = embed_read_file(path, len, sha);
	if (strcmp(sha, expected) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("file \"%s\" of model \"%s\" has changed since the model was registered",
						path, model),
				 errdetail("Its SHA-256 is %s; it was %s at registration.",
						   sha, expected),
				 errhint("If the new file is intended, register the model again with vsim.create_model(..., replace => true).")));
	return data;
}
