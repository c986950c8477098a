/*-------------------------------------------------------------------------
 *
 * model_file.c
 *	  Model and tokenizer files: the setting vsim.model_directory, finding
 *	  a file named at registration or in the registry inside that
 *	  directory, reading a file whole with its SHA-256, and the stamp that
 *	  tells a loaded model its file has changed.
 *
 * The model directory is the only place models are read from, so that
 * roles allowed to register models cannot make the server read arbitrary
 * files, or learn anything about files outside the directory: a path is
 * first checked lexically (no "..", inside the directory), and only then
 * resolved, and every path refused for its place or for being missing
 * gets one and the same error (superusers also get the reason).  The
 * registry keeps paths relative to the directory, symlink-free; they are
 * found again the same way at every load, and the file's SHA-256 compared
 * with the one recorded at registration.  Files are opened without
 * blocking and must be regular files, so a FIFO or device in the directory
 * cannot hang a backend.  This file calls no other file of the subsystem.
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

/* Bytes read between two checks for interrupts. */
#define READ_CHUNK_BYTES (1024 * 1024)

static char *model_directory = NULL;

void
embed_model_file_init(void)
{
	DefineCustomStringVariable("vsim.model_directory",
							   "Directory from which vsim reads model and tokenizer files.",
							   "Paths outside it, with \"..\", or through symbolic links leading out of it are refused.",
							   &model_directory,
							   "",
							   PGC_SUSET, 0, NULL, NULL, NULL);
}

/* ---------------------------------------------------------------------
 * Paths
 * ---------------------------------------------------------------------
 */

static void refuse_path(const char *what, const char *given,
						const char *reason) pg_attribute_noreturn();

/*
 * Raise the one error of a refused path `given` of a `what` file: the same
 * whether the file is missing, outside the directory, reached through ".."
 * or through a symbolic link leading out, so that it tells nothing about
 * the file system outside the directory.  Only superusers (the role in
 * effect outside SECURITY DEFINER functions) get `reason`.
 */
static void
refuse_path(const char *what, const char *given, const char *reason)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_FILE),
			 errmsg("%s file \"%s\" was not found in vsim.model_directory",
					what, given),
			 superuser_arg(GetOuterUserId()) ? errdetail_internal("%s", reason) : 0,
			 errhint("Paths are relative to vsim.model_directory; \"..\" and symbolic links leading out of it are not allowed.")));
}

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

/* Length of `dir` if `path` lies strictly inside it, else 0. */
static size_t
inside(const char *dir, const char *path)
{
	size_t		len = strlen(dir);

	return path_is_prefix_of_path(dir, path) && path[len] != '\0' ? len : 0;
}

char *
embed_resolve_model_path(const char *given, const char *what, char *path)
{
	char		dir[MAXPGPATH];
	char		real_dir[PATH_MAX];
	char		full[MAXPGPATH];
	char		real[PATH_MAX];
	size_t		n;
	size_t		dlen;

	if (model_directory == NULL || model_directory[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("vsim.model_directory is not set"),
				 errdetail("Model and tokenizer files are only read from that directory."),
				 errhint("A superuser sets it, for example with ALTER SYSTEM SET vsim.model_directory = '/srv/models'.")));
	if (given[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s file path must not be empty", what)));
	if (realpath(model_directory, real_dir) == NULL)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not access model directory \"%s\": %m",
						model_directory)));
	strlcpy(dir, model_directory, sizeof(dir));
	canonicalize_path(dir);

	/* first by the name alone, the directory as set or as resolved */
	if (has_dotdot(given))
		refuse_path(what, given, "The path contains \"..\".");
	if (is_absolute_path(given))
		n = strlcpy(full, given, sizeof(full));
	else
		n = snprintf(full, sizeof(full), "%s/%s", dir, given);
	if (n >= sizeof(full))
		refuse_path(what, given, "The path is too long.");
	canonicalize_path(full);
	if (!inside(dir, full) && !inside(real_dir, full))
		refuse_path(what, given, psprintf("The path is outside \"%s\".", dir));

	/* then on the file system */
	if (realpath(full, real) == NULL)
		refuse_path(what, given, psprintf("%s: %m", full));
	dlen = inside(real_dir, real);
	if (dlen == 0)
		refuse_path(what, given,
					psprintf("It resolves to \"%s\", outside \"%s\".",
							 real, real_dir));
	if (strlcpy(path, real, MAXPGPATH) >= MAXPGPATH)
		refuse_path(what, given, "The resolved path is too long.");
	return pstrdup(real + dlen + (real[dlen] == '/'));
}

/* ---------------------------------------------------------------------
 * Reading
 * ---------------------------------------------------------------------
 */

/* SHA-256 of data[0..len) into digest; `name` names the file in errors. */
static void
sha256(const char *name, const uint8 *data, size_t len,
	   uint8 digest[PG_SHA256_DIGEST_LENGTH])
{
#if PG_VERSION_NUM >= 140000
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);

	if (pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, data, len) < 0 ||
		pg_cryptohash_final(ctx, digest, PG_SHA256_DIGEST_LENGTH) < 0)
		elog(ERROR, "could not compute SHA-256 of \"%s\": %s", name,
			 pg_cryptohash_error(ctx));
	pg_cryptohash_free(ctx);
#else
	pg_sha256_ctx ctx;

	pg_sha256_init(&ctx);
	pg_sha256_update(&ctx, data, len);
	pg_sha256_final(&ctx, digest);
#endif
}

/*
 * Open the file at `path` (`name` in messages) for reading, without
 * blocking on a FIFO or device and without following a symbolic link put
 * there since it was resolved, and stat it into *st; raises 42809 unless
 * it is a regular file.  Returns the descriptor, in blocking mode.
 */
static int
open_regular_file(const char *path, const char *name, struct stat *st)
{
	int			fd = OpenTransientFile(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | PG_BINARY);
	int			flags;

	if (fd < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open file \"%s\": %m", name)));
	if (fstat(fd, st) < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not stat file \"%s\": %m", name)));
	if (!S_ISREG(st->st_mode))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a regular file", name),
				 errdetail("Model and tokenizer files must be regular files, not directories, FIFOs or devices.")));
	if ((flags = fcntl(fd, F_GETFL)) < 0 ||
		fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not set file \"%s\" to blocking mode: %m", name)));
	return fd;
}

char *
embed_read_file(const char *path, const char *name, size_t *len,
				char sha256_hex[PG_SHA256_DIGEST_STRING_LENGTH],
				EmbedFileStamp *stamp)
{
	struct stat st;
	int			fd = open_regular_file(path, name, &st);
	char	   *data;
	size_t		done = 0;
	uint8		digest[PG_SHA256_DIGEST_LENGTH];

	data = palloc_extended(st.st_size + 1, MCXT_ALLOC_HUGE);
	while (done < (size_t) st.st_size)
	{
		ssize_t		n = read(fd, data + done,
							 Min(st.st_size - done, READ_CHUNK_BYTES));

		if (n < 0)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not read file \"%s\": %m", name)));
		if (n == 0)
			break;
		done += n;
		CHECK_FOR_INTERRUPTS();
	}
	CloseTransientFile(fd);
	data[done] = '\0';

	sha256(name, (uint8 *) data, done, digest);
	for (int i = 0; i < PG_SHA256_DIGEST_LENGTH; i++)
		sprintf(sha256_hex + 2 * i, "%02x", digest[i]);
	if (stamp)
	{
		strlcpy(stamp->path, path, sizeof(stamp->path));
		stamp->size = st.st_size;
		stamp->mtime = st.st_mtime;
		stamp->ino = st.st_ino;
	}
	*len = done;
	return data;
}

bool
embed_file_changed(const EmbedFileStamp *stamp)
{
	struct stat st;

	return stat(stamp->path, &st) != 0 || st.st_size != stamp->size ||
		st.st_mtime != stamp->mtime || st.st_ino != stamp->ino;
}

char *
embed_read_verified(const char *name, const char *what, const char *expected,
					const char *model, size_t *len, EmbedFileStamp *stamp)
{
	char		path[MAXPGPATH];
	char		sha[PG_SHA256_DIGEST_STRING_LENGTH];
	char	   *data;

	pfree(embed_resolve_model_path(name, what, path));
	data = embed_read_file(path, name, len, sha, stamp);
	if (strcmp(sha, expected) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("file \"%s\" of model \"%s\" has changed since the model was registered",
						name, model),
				 errdetail("Its SHA-256 is %s; it was %s at registration.",
						   sha, expected),
				 errhint("If the new file is intended, register the model again with vsim.create_model(..., replace => true).")));
	return data;
}
