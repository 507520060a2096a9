"""A grading kernel started as a learner: ``python -m dataops.classroom.as_learner LEARNER CONNECTION_FILE``.

The kernel spec of a class grading run (:func:`dataops.classroom.grading.kernel_folder`) names this
module. It runs as root, the grader: it gives the kernel's connection file to the learner, then
becomes the learner (their groups, group and user, in that order) and replaces itself with an
IPython kernel of the learners' Python, in their home, with their session's settings. No process is
left between the grader and the kernel: stopping the kernel stops the learner's process itself.
"""

from __future__ import annotations

import os
import pwd
import sys

from dataops.classroom.hub_config import SESSION_ENV, STATE
from dataops.config import ENV_PREFIX


def main(argv: list[str]) -> None:
    learner, connection_file = argv[1], argv[2]
    user = pwd.getpwnam(learner)
    python = os.environ[f"{ENV_PREFIX}LEARNER_PYTHON"]
    os.chown(connection_file, user.pw_uid, user.pw_gid)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": user.pw_dir, "USER": learner, "LOGNAME": learner,
           "LANG": os.environ.get("LANG", "C.UTF-8"), "PLOTLY_RENDERER": os.environ.get("PLOTLY_RENDERER", "plotly_mimetype"),
           f"{ENV_PREFIX}ENV_FILE": os.path.join(user.pw_dir, SESSION_ENV), f"{ENV_PREFIX}STATE_DIR": os.path.join(user.pw_dir, STATE)}  # fmt: skip
    os.setgroups(os.getgrouplist(learner, user.pw_gid))
    os.setgid(user.pw_gid)
    os.setuid(user.pw_uid)
    os.chdir(user.pw_dir)
    os.execve(python, [python, "-m", "ipykernel_launcher", "-f", connection_file], env)


if __name__ == "__main__":
    main(sys.argv)
