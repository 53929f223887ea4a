"""mfagents.algos.precision: bfloat16 view encoders where the CPU has native bf16 units, float32 elsewhere."""

from __future__ import annotations

import copy

import gymnasium
import numpy as np
import pytest
import torch

from mfagents.algos import precision
from mfagents.algos.mfq import MFQ, MFQConfig
from mfagents.algos.nets import adam, build_network, observation_layout, soft_update
from mfagents.algos.precision import resolve_precision

BATTLE_SPACE = gymnasium.spaces.Box(0.0, 2.0, shape=(13, 13, 41), dtype=np.float32)
VECTOR_SPACE = gymnasium.spaces.Box(0.0, 1.0, shape=(3,), dtype=np.float32)




@pytest.mark.parametrize("native, expected", [(True, "bfloat16"), (False, "float32")])
def test_auto_is_bfloat16_only_on_a_cpu_with_native_bf16_units(monkeypatch, native, expected):
    monkeypatch.setattr(precision, "cpu_has_native_bfloat16", lambda: native)
    assert resolve_precision("auto", "cpu") == expected
    assert resolve_precision("auto", torch.device("cpu")) == expected
    assert resolve_precision("float32", "cpu") == "float32"
    assert resolve_precision("bfloat16", "cpu") == "bfloat16"


def test_auto_is_float32_off_the_cpu(monkeypatch):
    monkeypatch.setattr(precision, "cpu_has_native_bfloat16", lambda: True)
    assert resolve_precision("auto", "cuda") == "float32"
    assert resolve_precision("auto", "meta") == "float32"


def test_native_bf16_detection_reads_the_cpu_flags():
    flags = open("/proc/cpuinfo").read().split() if precision.Path("/proc/cpuinfo").exists() else []
    assert precision.cpu_has_native_bfloat16() == any(flag in flags for flag in precision.BF16_CPU_FLAGS)


def test_an_unknown_precision_is_named():
    with pytest.raises(ValueError, match="precision must be one of auto, float32, bfloat16, got 'half'"):
        resolve_precision("half", "cpu")
    with pytest.raises(ValueError, match="precision"):
        MFQConfig(precision="half")


def test_bfloat16_encoder_gives_float32_q_values_close_to_float32():
    layout = observation_layout(BATTLE_SPACE)
    exact = build_network(layout, 21, True, torch.Generator().manual_seed(0), precision="float32")
    fast = build_network(layout, 21, True, torch.Generator().manual_seed(0), precision="bfloat16")
    assert fast.encoder.precision == "bfloat16" and exact.encoder.precision == "float32"
    obs = torch.rand(64, layout.packed_size, generator=torch.Generator().manual_seed(1))
    abar = torch.rand(64, 21, generator=torch.Generator().manual_seed(2))
    q_exact, q_fast = exact(obs, abar), fast(obs, abar)
    assert q_fast.dtype == torch.float32 and q_fast.shape == (64, 21)
    assert not torch.equal(q_exact, q_fast)  # bf16 did run
    assert torch.allclose(q_exact, q_fast, atol=0.02 * q_exact.abs().max().item())
    assert all(p.dtype == torch.float32 for p in fast.parameters())  # weights stay float32


def test_mlp_encoders_stay_float32_whatever_the_setting():
    layout = observation_layout(VECTOR_SPACE)
    exact = build_network(layout, 4, True, torch.Generator().manual_seed(0), precision="float32")
    asked = build_network(layout, 4, True, torch.Generator().manual_seed(0), precision="bfloat16")
    obs, abar = torch.rand(8, 3), torch.rand(8, 4)
    assert torch.equal(exact(obs, abar), asked(obs, abar))


def test_a_bfloat16_learner_trains_float32_weights_deterministically():
    def run() -> dict[str, torch.Tensor]:
        learner = MFQ(MFQConfig(precision="bfloat16", learning_starts=64, batch_size=32), BATTLE_SPACE, 21, 8, seed=3)
        rng = np.random.default_rng(0)
        for _ in range(12):
            obs = rng.random((8, 13, 13, 41), dtype=np.float32)
            abar = rng.dirichlet(np.ones(21), size=8).astype(np.float32)
            actions = learner.act(obs, abar)
            learner.observe(obs, actions, abar, rng.normal(size=8), np.zeros(8, bool), np.ones(8, bool))
            learner.update()
        assert learner.gradient_steps > 0
        return {k: v.clone() for k, v in learner.q.state_dict().items()}

    first, second = run(), run()
    assert all(v.dtype == torch.float32 for v in first.values())
    assert all(torch.equal(first[k], second[k]) for k in first)


def test_fused_adam_takes_the_per_tensor_step():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.ReLU(), torch.nn.Linear(7, 2))
    twin = copy.deepcopy(net)
    fused = adam(net.parameters(), 1e-2, torch.device("cpu"))
    loop = torch.optim.Adam(twin.parameters(), lr=1e-2, foreach=False)
    assert fused.defaults["fused"]
    x = torch.randn(16, 5)
    for _ in range(5):
        for model, optimizer in ((net, fused), (twin, loop)):
            optimizer.zero_grad()
            model(x).square().mean().backward()
            optimizer.step()
    for a, b in zip(net.parameters(), twin.parameters()):
        assert torch.allclose(a, b, atol=1e-6)


def test_fused_soft_update_matches_the_formula():
    online, target = torch.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    expected = [0.25 * o.detach() + 0.75 * t.detach() for o, t in zip(online.parameters(), target.parameters())]
    soft_update(target, online, 0.25)
    assert all(torch.allclose(t, e) for t, e in zip(target.parameters(), expected))
