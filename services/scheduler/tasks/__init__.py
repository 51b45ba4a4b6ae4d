"""The tasks: which duties each member's liaison owes, by when, and why.

Rules and their windows (`evaluation`, `periods`), the facts they read (`facts`,
`loader`), the organizations' policy (`policy`), and the views over the result: the
`due` listing, `why`, the compliance `report` and the `listing` a liaison reads.
Nothing here knows about messages: `services.scheduler.planning` depends on this
package, never the reverse.
"""
