"""Queues by capability: the rules, their fallbacks, and when a set is scored in shards."""

from __future__ import annotations

import pytest

from leaderboard.fleet.routing import Limits, Queues, Workload, control_queue, scoring_queue
from leaderboard.services.placement import placement

MB = 2**20
QUEUES = Queues.from_names(gpu="gpu", gpu_large="gpu-large", cpu="cpu")
LIMITS = Limits(
    large_model_bytes=1024 * MB, cpu_max_values=10_000 * 28 * 28, cpu_max_model_bytes=50 * MB
)


def queue_for(*, n: int, values: int, model_mb: float) -> str:
    work = Workload(n_images=n, image_values=values, model_bytes=int(model_mb * MB))
    return scoring_queue(work=work, queues=QUEUES, limits=LIMITS)


@pytest.mark.parametrize(
    ("n", "values", "model_mb", "queue", "why"),
    [
        (10_000, 28 * 28, 0.2, "cpu", "Fashion-MNIST with a LeNet: seconds on a CPU"),
        (10_000, 28 * 28, 45, "cpu", "ResNet-18 ONNX on Fashion-MNIST"),
        (10_000, 28 * 28, 51, "gpu", "a model above the CPU cap"),
        (10_001, 28 * 28, 0.2, "gpu", "one image more than a CPU takes"),
        (10_000, 3 * 32 * 32, 0.2, "gpu", "CIFAR-10's test set is 4x the CPU cap"),
        (50_000, 3 * 224 * 224, 98, "gpu", "ResNet-50 on ILSVRC's validation set"),
        (50_000, 3 * 224 * 224, 528, "gpu", "VGG-16 fits an ordinary GPU"),
        (50_000, 3 * 224 * 224, 1024, "gpu-large", "a 1 GB model"),
        (100, 28 * 28, 2400, "gpu-large", "a huge model on a tiny set still needs the memory"),
    ],
)
def test_queues_by_capability(n, values, model_mb, queue, why):
    assert queue_for(n=n, values=values, model_mb=model_mb) == queue, why


def test_unset_capability_queues_fall_back_to_the_gpu_queue():
    queues = Queues.from_names(gpu="scoring")
    assert (queues.gpu_large, queues.cpu) == ("scoring", "scoring")
    assert queues.all() == ["scoring"]
    assert control_queue(queues=queues) == "scoring"
    work = Workload(n_images=10, image_values=64, model_bytes=5 * 2**30)
    assert scoring_queue(work=work, queues=queues, limits=LIMITS) == "scoring"


def test_control_work_goes_to_the_cpu_queue():
    assert control_queue(queues=QUEUES) == "cpu"


@pytest.fixture
def capability_queues(settings):
    settings.SCORING_QUEUE, settings.SCORING_QUEUE_LARGE = "gpu", "gpu-large"
    settings.SCORING_QUEUE_CPU = "cpu"
    settings.SCORING_SHARD_MIN_IMAGES, settings.SCORING_SHARD_SIZE = 20_000, 10_000
    settings.SCORING_SHARD_MIN_MODEL_MB = 0
    return settings


def test_a_small_set_is_scored_whole(capability_queues):
    where = placement(n_images=19_999, image_values=3 * 224 * 224, model_bytes=98 * MB)
    assert not where.sharded and where.queue == "gpu"


def test_a_large_set_is_cut_into_shards_started_and_merged_on_the_control_queue(
    capability_queues,
):
    where = placement(n_images=50_000, image_values=3 * 224 * 224, model_bytes=98 * MB)
    assert where.sharded
    assert where.spans == ((0, 10_000), (10_000, 20_000), (20_000, 30_000), (30_000, 40_000),
                           (40_000, 50_000))  # fmt: skip
    assert (where.queue, where.shard_queue, where.merge_queue) == ("cpu", "gpu", "cpu")
    large = placement(n_images=50_000, image_values=3 * 224 * 224, model_bytes=2048 * MB)
    assert large.shard_queue == "gpu-large"


def test_shards_of_small_images_go_where_a_set_of_their_size_goes(capability_queues):
    capability_queues.SCORING_SHARD_MIN_IMAGES, capability_queues.SCORING_SHARD_SIZE = 100, 10_000
    where = placement(n_images=70_000, image_values=28 * 28, model_bytes=1 * MB)
    assert where.shard_queue == "cpu" and len(where.spans) == 7


def test_sharding_is_off_at_zero_and_never_makes_a_single_shard(capability_queues):
    capability_queues.SCORING_SHARD_MIN_IMAGES = 0
    assert not placement(n_images=10**6, image_values=1, model_bytes=1).sharded
    capability_queues.SCORING_SHARD_MIN_IMAGES, capability_queues.SCORING_SHARD_SIZE = 10, 500
    assert not placement(n_images=400, image_values=1, model_bytes=1).sharded


def test_small_models_on_a_large_set_are_scored_whole_when_a_model_floor_is_set(
    capability_queues,
):
    capability_queues.SCORING_SHARD_MIN_MODEL_MB = 200
    resnet50 = placement(n_images=50_000, image_values=3 * 224 * 224, model_bytes=98 * MB)
    vit_large = placement(n_images=50_000, image_values=3 * 224 * 224, model_bytes=1160 * MB)
    assert not resnet50.sharded and resnet50.queue == "gpu"
    assert vit_large.sharded and vit_large.shard_queue == "gpu-large"
