"""Where training keeps its checkpoints and samples: runs/ beside this file, or LOB_RUNS. One definition for
train.py (which writes there) and run_all.py (which hands the finished UNet to export and evaluation)."""
import os

RUNS = os.environ.get("LOB_RUNS", os.path.join(os.path.dirname(os.path.abspath(__file__)), "runs"))
