"""Which queue a piece of scoring work goes to: the few rules, in one place.

Workers subscribe to queues by capability (``celery worker -Q``): ``gpu`` for any GPU,
``gpu-large`` for GPUs with much memory, ``cpu`` for machines without one. What a job needs is
read from the challenge's size and the model's memory: the model file's size stands for its
weights (ONNX, safetensors, TorchScript and torch.export files are their weights plus a little
structure), and the set's size (images x C x H x W) for the work.

- A model file of ``large_model_bytes`` or more needs a large GPU: its weights, the runtime's
  copy and the activations of a batch do not fit beside each other on a small one.
- A small set with a small model costs a CPU worker seconds: it should not wait for a GPU.
- Everything else goes to the plain GPU queue.
- Short control work (merging shards, starting a sharded run) goes to the CPU queue too.

A queue that a deployment does not run is named as the GPU queue (see ``Queues.from_names``),
so the rules never send work where no worker listens.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class Queues:
    gpu: str
    gpu_large: str
    cpu: str

    @classmethod
    def from_names(cls, *, gpu: str, gpu_large: str = "", cpu: str = "") -> Queues:
        """Unset capability queues fall back to the GPU queue."""
        return cls(gpu=gpu, gpu_large=gpu_large or gpu, cpu=cpu or gpu)

    def all(self) -> list[str]:
        return list(dict.fromkeys((self.gpu, self.gpu_large, self.cpu)))


@dataclass(frozen=True)
class Limits:
    large_model_bytes: int
    cpu_max_values: int
    cpu_max_model_bytes: int


@dataclass(frozen=True)
class Workload:
    n_images: int
    image_values: int  # C x H x W of one image
    model_bytes: int


def scoring_queue(*, work: Workload, queues: Queues, limits: Limits) -> str:
    """The queue whose workers can score ``work``."""
    if work.model_bytes >= limits.large_model_bytes:
        return queues.gpu_large
    small_set = work.n_images * work.image_values <= limits.cpu_max_values
    if small_set and work.model_bytes <= limits.cpu_max_model_bytes:
        return queues.cpu
    return queues.gpu


def control_queue(*, queues: Queues) -> str:
    """Where short bookkeeping tasks go (the merge of shards, a sharded run's start)."""
    return queues.cpu


def configured_queues() -> Queues:
    return Queues.from_names(
        gpu=settings.SCORING_QUEUE,
        gpu_large=settings.SCORING_QUEUE_LARGE,
        cpu=settings.SCORING_QUEUE_CPU,
    )


def configured_limits() -> Limits:
    return Limits(
        large_model_bytes=settings.SCORING_LARGE_MODEL_MB * 2**20,
        cpu_max_values=settings.SCORING_CPU_MAX_VALUES,
        cpu_max_model_bytes=settings.SCORING_CPU_MAX_MODEL_MB * 2**20,
    )
