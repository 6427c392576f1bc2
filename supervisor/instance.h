/*
 * One supervisor per camera. The supervisor removes a camera's rings at
 * start, which is only safe if no other supervisor of the same CAMERA_NAME
 * uses them; this lock tells.
 *
 * Errors: negative errno values, as libuv's.
 */
#ifndef CAMWATCH_SUP_INSTANCE_H
#define CAMWATCH_SUP_INSTANCE_H

/*
 * Claim camera `camera` for this process until it exits. Returns a file
 * descriptor to keep open (close-on-exec: stages do not hold the claim),
 * -EADDRINUSE if another supervisor holds it, or another negative errno if
 * the claim cannot be made at all.
 */
int sup_instance_claim(const char *camera);

#endif /* CAMWATCH_SUP_INSTANCE_H */
