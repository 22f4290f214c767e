# Offline replacement for the get-pip bootstrap that ansible-test downloads from a host this
# machine cannot reach: it bootstraps the pip bundled with Python, then installs what was asked
# for from the package index. ansible-test trims the environment, so the CA bundle is passed on.
import ensurepip
import os
import subprocess
import sys

ensurepip.bootstrap(upgrade=True)
args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
for bundle in ("/etc/ssl/certs/ca-certificates.crt",):
    if os.path.exists(bundle):
        args = ["--cert", bundle] + args
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install"] + args))
