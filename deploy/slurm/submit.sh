#!/bin/bash
# Grade a class on a Slurm cluster: N shards as one job array, then the merge once they end.
#
#   deploy/slurm/submit.sh N HW SUBMISSIONS --out OUT [grader options]
#   deploy/slurm/submit.sh 8 hw_gmvae_iwae_ssvae /shared/hw2/submissions --out /shared/hw2/grades
#
# Run it on the login node from anywhere; SUBMISSIONS and OUT must be on a file system the
# nodes share. Extra sbatch options (partition, account) go in SBATCH_* environment variables,
# e.g. SBATCH_PARTITION=cpu SBATCH_ACCOUNT=course123. The class's CSV is OUT/grades.csv.
set -euo pipefail
if [ $# -lt 3 ] || ! [ "$1" -ge 1 ] 2>/dev/null; then
  echo "usage: $0 N HW SUBMISSIONS --out OUT [grader options]   (N shards, N >= 1)" >&2
  exit 2
fi
shards=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
if [ -z "${VAECOURSE_PYTHON:-}" ]; then
  "$repo/run.sh" grade --help >/dev/null  # builds the environment here, once, not N times at once
fi
export VAECOURSE_REPO=$repo
array=$(sbatch --parsable --array="1-$shards" "$here/grade.sbatch" "$@")
array=${array%%;*}  # --parsable prints JOBID or JOBID;CLUSTER
merge=$(sbatch --parsable --dependency="afterany:$array" "$here/merge.sbatch" "$@")
echo "submitted: shards 1-$shards as job array $array; the merge as job ${merge%%;*}, after it"
