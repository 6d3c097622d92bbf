#!/usr/bin/env bash
# GPU checks, run on a machine with a CUDA device and PyTorch installed:
#   bash tests/gpu_check.sh [OUTDIR]
# Runs the GPU-only tests (among them the run's memory cap holding on a CUDA run, when the
# machine lets root make control groups, and a warm sandbox holding its CUDA context before its
# job), a run's fixed cost cold against warm, then the scoring benchmark for ResNet-50 and AlexNet (bf16),
# writing JSON results to OUTDIR. Needs torch, torchvision, numpy, pillow, tqdm, onnx,
# onnxruntime, safetensors and pytest; bubblewrap is used when on PATH.
set -uo pipefail
OUT_DIR="${1:-${OUT:-./bench-out}}"
mkdir -p "$OUT_DIR"
export PYTHONUNBUFFERED=1
PY="${PY:-python3}"
if [ -d .devtools/bin ]; then
    export PATH="$PWD/.devtools/bin:$PATH" LD_LIBRARY_PATH="$PWD/.devtools/lib:${LD_LIBRARY_PATH:-}"
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
nproc
$PY -c "import torch, torchvision, onnxruntime; print('torch', torch.__version__, 'torchvision', torchvision.__version__, 'onnxruntime', onnxruntime.__version__, onnxruntime.get_available_providers())"
command -v bwrap && bwrap --unshare-all --die-with-parent --ro-bind / / true && echo "bwrap works"

$PY -m pytest -q -p no:cacheprovider -m gpu tests/evaluator -o addopts="" --confcutdir=tests/evaluator -p no:django -rA > "$OUT_DIR/pytest-gpu.log" 2>&1; tail -40 "$OUT_DIR/pytest-gpu.log"

# Warm sandboxes (needs bubblewrap): the gpu test above checks that a waiting warm child already
# holds its CUDA context and scores as a cold one does
# (test_sandbox_warm.py::test_on_a_gpu_the_warm_child_holds_its_cuda_context_before_its_job);
# this prints a run's fixed cost on the GPU, cold against warm.
if command -v bwrap >/dev/null; then
    $PY -m evaluator.bench.sandbox --device cuda --runs 5 2>&1 | tee "$OUT_DIR/bench-sandbox-cuda.txt"
fi

W=/tmp/bench-work
# --profile: one more run under torch.profiler; prints how much of the host-to-device copying
# ran under kernels (the staging overlap) and leaves a Chrome trace beside the JSON.
for model in resnet50 alexnet; do
    $PY -m evaluator.bench --model "$model" --data synthetic --n 10000 --classes 1000 \
        --device cuda --precision bf16 --batch-size 256 --workers "$(nproc)" \
        --workdir "$W" --json "$OUT_DIR/bench-$model-bf16.json" \
        --profile "$OUT_DIR/trace-$model-bf16.json" 2>&1 | grep -v "it/s]"
done
if [ "${WITH_FP32:-0}" = 1 ]; then
$PY -m evaluator.bench --model resnet50 --data synthetic --n 10000 --classes 1000 \
    --device cuda --precision fp32 --batch-size 256 --workers "$(nproc)" --skip-reference \
    --workdir "$W" --json "$OUT_DIR/bench-resnet50-fp32.json" 2>&1 | grep -v "it/s]"
fi
