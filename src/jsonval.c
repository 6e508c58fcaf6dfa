/* jsonval.c - see jsonval.h. */
#include "jsonval.h"

#include <errno.h>
#include <string.h>

int jsonval_u64(struct json_object *o, const char *name, uint64_t max, uint64_t *out)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, name, &v) || !json_object_is_type(v, json_type_int))
		return -EINVAL;
	if (json_object_get_int64(v) < 0)
		return -EINVAL;
	uint64_t u = json_object_get_uint64(v);
	if (u > max)
		return -EINVAL;
	*out = u;
	return 0;
}

int jsonval_add(struct json_object *o, const char *name, struct json_object *v)
{
	if (!v || json_object_object_add(o, name, v) != 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

void jsonval_put(struct json_object *o, const char *name, struct json_object *v, int *rc)
{
	if (*rc) {
		json_object_put(v);
		return;
	}
	*rc = jsonval_add(o, name, v);
}

bool jsonval_only_keys(struct json_object *o, const char *const *keys, size_t nkeys)
{
	if (!json_object_is_type(o, json_type_object))
		return false;
	json_object_object_foreach(o, k, val) {
		(void)val;
		bool known = false;
		for (size_t i = 0; i < nkeys && !known; i++)
			known = strcmp(k, keys[i]) == 0;
		if (!known)
			return false;
	}
	return true;
}
