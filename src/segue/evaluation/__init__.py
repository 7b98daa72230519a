from segue.evaluation._old import *  # noqa: F401,F403  (temporary)
