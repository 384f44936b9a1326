/** A referenced row (dataset, model, run, image, job) does not exist. */
export class NotFoundError extends Error {}

/** Bad input from the user (a path that does not exist, a file of the wrong kind): shown as is. */
export class BadInputError extends Error {}
