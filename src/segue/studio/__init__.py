from segue.studio._old import *  # noqa: F401,F403  (temporary)
