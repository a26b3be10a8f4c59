"""Audit a model: what did each parameter get at initialization, and is it what was promised?

The one audit loop, for every framework: a framework *adapter* (:class:`Adapter`) builds the
model under a per-build seed and returns its parameters in a fixed order; the loop

1. builds the *probe* (build 0, seed ``SeedSequence(s).generate_state(K)[0]``) and reads from
   it every parameter's :class:`~._verdicts.Site`: its owner layer, layout and fans, the
   expectation (the first ``--expect PATTERN=SCHEME[@LAYOUT]`` whose shell-style PATTERN
   matches the parameter's name, else the documented default of its layer type,
   :func:`~weight_init.properties.audit._expectations.documented_defaults`, else none:
   ``unchecked``);
2. chooses the number of builds ``K`` (``builds=None``): the fewest that let every checked
   parameter, alone or in its pooled group, reach the target resolution
   (:func:`~._resolution.entries_needed`), at least :data:`MIN_BUILDS`, at most
   ``max_builds``;
3. reduces each build's parameters to the statistics the tests need in one streaming pass
   (:class:`~._stream.ParamStats`), builds ``1 .. K-1`` in at most :data:`TASKS` fixed
   chunks that run here or on an executor's workers, merged in build order: the verdicts
   depend on the seed and ``K`` only, never on the number of workers. Within a chunk, a
   parameter of at most :data:`~._stream_batch.BATCH_ENTRIES` entries is copied and read in
   stacks of consecutive builds (:meth:`~._stream.ParamStats.add_builds`), fixed by the
   chunk too (the probe's value of such a parameter is carried to the first chunk, ahead of
   its builds in the first stack). Each parameter is read whole in the first builds its own
   target resolution needs, at least :data:`MIN_READS` (:func:`_reads`), and compared with
   the other builds (its total, digest, norms and leading entries) in the first
   :data:`MIN_BUILDS`: a parameter that reaches the target in one build is not read ``K``
   times because a small one needs ``K``, so the reading costs about what the target needs,
   not ``K`` times the model. Memory: one build per worker, the stacks' copies (at most
   :data:`~._stream_batch.BATCH_ENTRIES` entries per parameter) and the statistics, whatever
   ``K``;
4. turns the statistics into one row per parameter (:func:`~._verdicts.param_audits`):
   identification, exact checks, Holm-decided tests at the family-wise ``alpha`` (per
   parameter, or per pooled group), and the resolution its entries reach.

The torch adapter lives here: ``factory()`` returns a ``torch.nn.Module``, built under
``torch.random.fork_rng`` and ``torch.manual_seed``; the Keras, Flax, Haiku, Equinox and NNX
adapters are in :mod:`~weight_init.properties.audit._frameworks`.
"""

from __future__ import annotations

__all__ = [
    "Adapter",
    "AuditOptions",
    "AuditReport",
    "Expectation",
    "ParamAudit",
    "audit_command",
    "audit_torch",
    "parse_expect",
    "run_audit",
]

import contextlib
import dataclasses
import gc
import itertools
import math
import shlex
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import (
    FIRST_COMPLETED,
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from weight_init.errors import (
    AuditError,
    InitializerTypeError,
    describe_exception,
)
from weight_init.families import Orthogonal, Sparse
from weight_init.layouts import Fans, KernelSpec, get_layout
from weight_init.properties._torch_seed import manual_seed
from weight_init.properties.audit._builds import build_seeds
from weight_init.properties.audit._expectations import (
    Expectation,
    check_rules,
    parse_expect,
)
from weight_init.properties.audit._planned import at_precision, finish_row, stream_plan, unfit
from weight_init.properties.audit._resolution import DEFAULT_RESOLUTION, entries_needed
from weight_init.properties.audit._result import AuditOptions, AuditReport, ParamAudit
from weight_init.properties.audit._stream import ParamStats, Target, probe_target
from weight_init.properties.audit._stream_batch import batch_size
from weight_init.properties.audit._verdicts import (
    AuditSettings,
    Site,
    groups_of,
    identify,
    matrix_shape,
    param_audits,
    planned_tests,
    pooled_tests,
)
from weight_init.schemes import Scheme


def _fans(how: str, layout: str, shape: tuple[int, ...], owner: Any, local: str) -> Fans:
    if how == "rnn":
        hidden = int(owner.hidden_size)
        fan_in = shape[1] if len(shape) == 2 else hidden
        return Fans(fan_in, hidden)
    if how == "owner" and hasattr(owner, "weight") and owner.weight is not None:
        w = tuple(owner.weight.shape)
        return Fans(get_layout(layout).fans(w).fan_in, shape[0])
    if len(shape) >= 2:
        return get_layout(layout).fans(shape)
    return Fans(shape[0], shape[0]) if shape else Fans(1, 1)


def _spec(owner: Any) -> KernelSpec | None:
    """The layer spec of a torch conv or linear module (None for other layers)."""
    try:
        if hasattr(owner, "kernel_size"):
            k = tuple(int(x) for x in owner.kernel_size)
            return KernelSpec(int(owner.in_channels), int(owner.out_channels), k, int(owner.groups))
        if hasattr(owner, "in_features") and hasattr(owner, "out_features"):
            return KernelSpec(int(owner.in_features), int(owner.out_features))
    except (TypeError, ValueError):
        return None
    return None


def torch_model(factory: Callable[[], Any], seed: int) -> Any:
    """``factory()`` under ``torch.manual_seed(seed)`` (the global generator restored after),
    checked to be a ``torch.nn.Module``."""
    import torch

    with torch.random.fork_rng(devices=[]):
        manual_seed(torch, int(seed))
        try:
            model = factory()
        except (Exception, SystemExit) as exc:
            raise AuditError(f"the model factory raised {describe_exception(exc)}") from None
    if not isinstance(model, torch.nn.Module):
        raise InitializerTypeError(
            f"the model factory returned {type(model).__name__}, not a torch.nn.Module"
        )
    return model


def torch_sites(model: Any, opts: AuditOptions) -> tuple[list[NDArray[Any]], list[Site]]:
    """Every parameter of ``model`` once (:func:`~._walk_torch.walk`: tied tensors under their
    first name with their aliases, any rank), its value and its :class:`~._verdicts.Site`:
    the expectation planned from ``opts.expect``, ``opts.preset`` and the documented
    defaults through the class hierarchy (:func:`~._expect_torch.plan_torch`), with layout,
    fans, zero rows, dtype and quirks."""
    from weight_init.properties.audit._expect_torch import plan_torch, select_preset
    from weight_init.properties.audit._walk_torch import walk

    params, values, modules = walk(model)
    if opts.rules_must_match:
        check_rules(opts.expect, params, opts.subject)
    preset: dict[str, Any] = {}
    label = ""
    if opts.preset:
        label, preset = select_preset(opts.preset, model, params, modules)
    plan = plan_torch(params, modules, opts.expect, preset, label)
    depth = _depth(model)
    sites = []
    for i, (p, pl) in enumerate(zip(params, plan, strict=True)):
        owner = modules.get(p.owner)
        fans = _fans(pl.fans, pl.layout, p.shape, owner, p.local)
        why = unfit(values[i], fans.as_tuple())
        scheme = None if (pl.skip or why) else at_precision(pl.scheme, p.dtype)
        sites.append(
            Site(
                p.name,
                p.layer,
                p.local,
                p.shape,
                pl.layout,
                fans,
                scheme,
                pl.source,
                _spec(owner),
                i,
                zero_rows=() if why else pl.zero_rows,
                skip=pl.skip,
                aliases=p.aliases,
                dtype=p.dtype,
                quirks=(*pl.quirks, why) if why else pl.quirks,
                depth=depth,
            )
        )
    return values, sites


def _depth(model: Any) -> int | None:
    """The number of layers a model's configuration states (``n_layer``,
    ``num_hidden_layers``, ``num_layers``), for naming residual scaling; ``None`` without."""
    config = getattr(model, "config", None)
    for key in ("n_layer", "num_hidden_layers", "num_layers"):
        v = getattr(config, key, None)
        if isinstance(v, int) and not isinstance(v, bool) and v > 0:
            return v
    return None


def torch_probe(
    factory: Callable[[], Any], seed: int, opts: AuditOptions
) -> tuple[list[NDArray[Any]], list[Site]]:
    """Build 0 of a torch model: its parameter values and sites."""
    return torch_sites(torch_model(factory, seed), opts)


def torch_builds(factory: Callable[[], Any], seeds: Sequence[int]) -> Iterator[list[NDArray[Any]]]:
    """The parameter values of a torch model built under each seed, one build at a time, in
    the walk's order."""
    from weight_init.properties.audit._walk_torch import walk_values

    for s in seeds:
        model = torch_model(factory, s)
        values = walk_values(model)
        del model  # the values keep the storage; the next build starts from this one freed
        yield values
        del values


@dataclass(frozen=True)
class Adapter:
    """A framework for the loop: ``probe(factory, seed, options)`` gives build 0's parameter
    values and :class:`~._verdicts.Site` list (``options``: the
    :class:`~._result.AuditOptions`, whose rules, preset and ``rules_must_match`` it reads);
    ``builds(factory, seeds)`` yields each build's
    values in the same order (module-level functions: workers receive them by reference)."""

    probe: Callable[[Callable[[], Any], int, AuditOptions], tuple[list[NDArray[Any]], list[Site]]]
    builds: Callable[[Callable[[], Any], Sequence[int]], Iterator[list[NDArray[Any]]]]


TORCH = Adapter(torch_probe, torch_builds)

#: Fewest builds an automatic count chooses (fresh draws and the cluster-robust mean compare
#: builds).
MIN_BUILDS = 10
#: Fewest builds a checked zero-mean i.i.d. parameter is read whole in (two: the tests of
#: the builds read whole, the top direction's and the extremes' among them, see two draws,
#: at about the cost of one where the probe joins the first stack); the builds after them up
#: to :data:`MIN_BUILDS` are read for what compares them with the others (:func:`_reads`).
MIN_READS = 2
#: Builds 1 .. K-1 are reduced in this many chunks (fewer when K is small), whatever the
#: number of workers: the chunks, hence the sums' order, depend on K only.
TASKS = 32
#: ... of at least this many builds each (a chunk's statistics start empty and are merged
#: into the audit's, and its small parameters are read in stacks of up to this many builds:
#: that work is paid once per chunk or stack, not per build).
CHUNK_MIN = 4

_FACTORIES: dict[int, Callable[[], Any]] = {}
_TOKENS = itertools.count(1)
_RESOLVED: dict[str, Callable[[], Any]] = {}


def _factory(token: int, spec: str) -> Callable[[], Any]:
    """The factory a worker runs: inherited from the parent (fork), else imported from
    ``spec``."""
    f = _FACTORIES.get(token)
    if f is not None:
        return f
    if not spec:
        raise AuditError(
            "the model factory cannot reach this worker (not forked from the auditing "
            "process): audit it by MODULE:FACTORY"
        )
    if spec not in _RESOLVED:
        from weight_init.properties.conformance._adapters import resolve, select_keras_backend

        select_keras_backend()
        _RESOLVED[spec] = resolve(spec).fn
    return _RESOLVED[spec]


@dataclass(frozen=True)
class _Chunk:
    """Builds ``seeds`` of the model (builds ``first``, ``first + 1``, ... of the audit) and
    reduces them for ``targets``, each whole in the builds before its ``reads``, for what
    compares it with the other builds before its ``totals`` and for its range after
    (:func:`_reads`); ``prefix``: per target, the probe's value when it is read here, ahead
    of these builds in the target's first stack (the first chunk only; None: read by the
    caller)."""

    builds: Callable[[Callable[[], Any], Sequence[int]], Iterator[list[NDArray[Any]]]]
    token: int
    spec: str
    seeds: tuple[int, ...]
    targets: tuple[Target, ...]
    shapes: tuple[tuple[int, ...], ...]
    first: int
    reads: tuple[int, ...]
    totals: tuple[int, ...]
    prefix: tuple[NDArray[Any] | None, ...] = ()


#: True while this process forks :func:`run_audit`'s pool on :func:`_one_thread`'s limits
#: (:func:`_limited_while_forking`), hence in the workers it forks, which inherit them.
_LIMITED_AT_FORK = False


@contextlib.contextmanager
def _limited_while_forking() -> Iterator[None]:
    """:func:`_one_thread`'s limits in this process while it reads the builds on its own
    fork pool (whose workers start at its first task, after the probe has imported what the
    factory needs): each worker inherits them at the fork instead of setting them itself.
    This process's own limits are restored after."""
    global _LIMITED_AT_FORK
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # not installed: the BLAS keeps its threads, as in _one_thread
        blas: contextlib.AbstractContextManager[Any] = contextlib.nullcontext()
    else:
        blas = threadpool_limits(1)
    torch = sys.modules.get("torch")
    saved = torch.get_num_threads() if torch is not None else 1
    with blas:
        if torch is not None:
            torch.set_num_threads(1)
        _LIMITED_AT_FORK = True
        try:
            yield
        finally:
            _LIMITED_AT_FORK = False
            if torch is not None:
                torch.set_num_threads(saved)


def _one_thread() -> None:
    """Workers share the cores: one intra-op thread for torch (if loaded) and the BLAS."""
    torch = sys.modules.get("torch")
    if torch is not None and torch.get_num_threads() != 1:
        torch.set_num_threads(1)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # not installed: the BLAS keeps its threads (OPENBLAS_NUM_THREADS)
        return
    threadpool_limits(1)


#: One chunk at a time per process: torch's and Keras' generators are global to the process,
#: so two threads of one worker (a Dask worker with several threads) building at once would
#: interleave their seeds.
_BUILDING = threading.Lock()


def _reduce(
    chunk: _Chunk, threads: bool = False, before: Callable[[], None] | None = None
) -> list[ParamStats]:
    """A worker's task: build every seed of ``chunk`` (one build alive at a time) and fold it
    into fresh statistics (each target as its ``reads`` and ``totals`` say); ``threads``:
    first limit torch and the BLAS to one thread; ``before``: called before each build
    (inline runs: the caller's step timeout)."""
    with _BUILDING:
        factory = _factory(chunk.token, chunk.spec)
        if threads and not _LIMITED_AT_FORK:
            _one_thread()  # after the factory's import: torch is whole by now
        stats = [ParamStats() for _ in chunk.targets]
        prefix = chunk.prefix or (None,) * len(chunk.targets)
        sizes = [
            batch_size(math.prod(chunk.shapes[t.index]), len(chunk.seeds) + (p is not None))
            for t, p in zip(chunk.targets, prefix, strict=True)
        ]
        pending: list[list[NDArray[Any]]] = [[] if p is None else [p] for p in prefix]
        built = iter(chunk.builds(factory, chunk.seeds))
        for j in range(chunk.first, chunk.first + len(chunk.seeds)):
            if before is not None:
                before()
            values = next(built)
            _same_shapes(values, chunk.shapes)
            for st, t, size, held, read, total in zip(
                stats, chunk.targets, sizes, pending, chunk.reads, chunk.totals, strict=True
            ):
                if j >= read:  # past the builds its resolution needs: the total or range
                    if held:  # the builds before it first, in build order
                        st.add_builds(held, t)
                        held.clear()
                    if j < total:
                        st.add_total(values[t.index], t)
                    else:
                        st.add_unread(values[t.index], t)
                    continue
                if size <= 1:
                    st.add_builds([values[t.index]], t) if size else st.add(values[t.index], t)
                    continue
                held.append(np.array(values[t.index], copy=True))  # the build is freed next
                if len(held) == size:
                    st.add_builds(held, t)
                    held.clear()
            del values  # one build alive at a time (and copies of its small parameters)
        for st, t, held in zip(stats, chunk.targets, pending, strict=True):
            if held:
                st.add_builds(held, t)
        return stats


def _reduce_in_worker(chunk: _Chunk) -> list[ParamStats]:
    return _reduce(chunk, threads=True)


def _same_shapes(values: Sequence[NDArray[Any]], shapes: Sequence[tuple[int, ...]]) -> None:
    if len(values) != len(shapes) or any(
        tuple(np.shape(v)) != s for v, s in zip(values, shapes, strict=False)
    ):
        raise AuditError(
            "the model factory built models with different parameters in different builds"
        )


def _auto_builds(sites: Sequence[Site], opts: AuditOptions) -> tuple[int, dict[int, int]]:
    """The builds that let every unit reach the target (module docstring), and each site's
    own need."""
    need = MIN_BUILDS
    per_site: dict[int, int] = {}
    for unit in groups_of(sites, opts.pool):
        checked = [sites[i].checked() for i in unit]
        first = checked[0]
        if first is None or not first.family.is_random:
            continue
        family = first.family
        shapes = [matrix_shape(sites[i]) for i in unit]
        m = sum(planned_tests(family, r, c) for r, c in shapes)
        if len(unit) >= 2:
            m += pooled_tests(shapes)
        per_build = max(sum(r * c for r, c in shapes), 1)
        n = entries_needed(family, opts.resolution, m, opts.alpha)
        k = max(1, math.ceil(n / per_build))
        for i in unit:
            per_site[i] = k
        need = max(need, k)
    return min(need, opts.max_builds), per_site


def _reads(
    sites: Sequence[Site], per_site: dict[int, int], builds: int
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """``(reads, totals)``: site ``i`` is read whole in builds ``0 .. reads[i] - 1``, for what
    compares it with the other builds (:meth:`~._stream.ParamStats.add_total`) in the builds
    after them up to ``totals[i] - 1``, and for its range
    (:meth:`~._stream.ParamStats.add_unread`) in the rest, of ``builds``. A random
    expectation of a zero-mean i.i.d. family (:func:`_compared_past_need`) is read whole in
    the builds with which it (or its pooled group) reaches the target resolution
    (``per_site``), at least :data:`MIN_READS`, and compared up to :data:`MIN_BUILDS` (the
    cluster-robust mean's clusters, the fresh draws, the checks between builds and of
    homogeneity); any other random expectation whole in at least :data:`MIN_BUILDS`; an
    unchecked parameter (identification only) in :data:`MIN_BUILDS`; any other (a
    constant's exact check) in every build. Fixed by the shapes, the options and ``builds``
    (never by the values): a parameter's tests are those of a fixed sample, and the verdicts
    do not depend on the workers."""
    reads, totals = [], []
    for i, site in enumerate(sites):
        need = per_site.get(i, 0)
        scheme = site.checked()
        if need and scheme is not None and _compared_past_need(scheme):
            read = min(builds, max(MIN_READS, need))
            reads.append(read)
            totals.append(max(read, min(builds, MIN_BUILDS)))
            continue
        if need:
            reads.append(min(builds, max(MIN_BUILDS, need)))
        elif scheme is None:
            reads.append(min(builds, MIN_BUILDS))
        else:
            reads.append(builds)
        totals.append(reads[-1])
    return tuple(reads), tuple(totals)


def _compared_past_need(scheme: Scheme) -> bool:
    """Whether the builds past a parameter's need are read for what compares them with the
    other builds rather than whole: a zero-mean i.i.d. family with no structure of its own
    to check in every build (not sparse, not orthogonal)."""
    family = scheme.family
    return (
        family.is_random
        and family.is_iid
        and not scheme.mean()
        and not isinstance(family, (Sparse, Orthogonal))
    )


def _chunks(seeds: Sequence[int]) -> list[tuple[int, ...]]:
    """Builds 1 .. K-1 in at most :data:`TASKS` consecutive chunks of at least
    :data:`CHUNK_MIN` builds (one chunk when there are fewer), as equal as they can be (the
    first ones a build longer): fixed by K. No chunk is a short remainder, whose stacks would
    cost as much as a full chunk's."""
    rest = list(seeds[1:])
    if not rest:
        return []
    count = max(1, min(TASKS, len(rest) // CHUNK_MIN))
    size, extra = divmod(len(rest), count)
    out, start = [], 0
    for i in range(count):
        end = start + size + (i < extra)
        out.append(tuple(rest[start:end]))
        start = end
    return out


def run_audit(
    adapter: Adapter,
    factory: Callable[[], Any],
    options: AuditOptions | None = None,
    *,
    executor: Executor | None = None,
    slots: int = 1,
    **kwargs: Any,
) -> AuditReport:
    """Audit ``factory()`` with ``adapter`` (module docstring) under ``options`` or its
    keywords; builds 1 .. K-1 run on ``executor`` (``slots`` tasks at once) when one is
    given, on ``options.workers`` local processes when that is above 1, else here."""
    opts = AuditOptions.of(options, **kwargs)
    with _caller_heap_frozen():
        if executor is None and opts.workers > 1:
            import multiprocessing

            context = multiprocessing.get_context("fork")
            token = next(_TOKENS)
            _FACTORIES[token] = factory  # forked workers inherit it
            try:
                with ProcessPoolExecutor(opts.workers, mp_context=context) as pool:
                    return _run(adapter, factory, opts, pool, opts.workers, token, forked=True)
            finally:
                del _FACTORIES[token]
        token = next(_TOKENS)
        _FACTORIES[token] = factory
        try:
            return _run(adapter, factory, opts, executor, slots, token)
        finally:
            del _FACTORIES[token]


@contextlib.contextmanager
def _caller_heap_frozen() -> Iterator[None]:
    """The objects that exist when the audit starts (the framework's modules, the caller's
    data: hundreds of thousands with torch loaded) exempt from the garbage collector until it
    ends (:func:`gc.freeze`, undone by :func:`gc.unfreeze`): the builds and the statistics
    allocate many short-lived objects, and every full collection they trigger would traverse
    the whole heap again, in each forked worker too (where the traversal also copies the
    pages it touches). Nothing is left uncollected: the frozen objects return to the oldest
    generation afterwards. A heap frozen already (by the caller, or an enclosing audit) is
    left as it is."""
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _run(
    adapter: Adapter,
    factory: Callable[[], Any],
    opts: AuditOptions,
    executor: Executor | None,
    slots: int,
    token: int,
    forked: bool = False,
) -> AuditReport:
    """The audit (module docstring) with builds ``1 .. K-1`` on ``executor`` (None: here);
    ``forked``: the executor is this audit's own fork pool, whose workers inherit
    :func:`_one_thread`'s limits (:func:`_limited_while_forking`) and are shut down while
    the tests run, once every build is read."""
    from tqdm import tqdm

    on_step = opts.on_step or (lambda step: None)
    on_step(f"build 1 of {opts.builds}" if opts.builds else "the first build")
    seed0 = build_seeds(1, opts.seed)[0]
    values, sites = adapter.probe(factory, seed0, opts)
    plans = [stream_plan(s, s.checked()) for s in sites]
    targets = [
        probe_target(
            s.index,
            s.block,
            s.checked(),
            s.layout if s.scheme is not None and s.scheme.family.name == "orthogonal" else None,
            values[s.index],
            p.drop_rows,
            p.track_rows,
            p.outlier,
        )
        for s, p in zip(sites, plans, strict=True)
    ]
    firsts = [_first(values[s.index]) for s in sites]
    auto, per_site = _auto_builds(sites, opts)
    builds = opts.builds if opts.builds is not None else auto
    seeds = build_seeds(builds, opts.seed)
    shapes = tuple(tuple(np.shape(v)) for v in values)
    stats = [ParamStats() for _ in targets]
    reads, totals = _reads(sites, per_site, builds)
    chunks = _chunks(seeds)
    # the probe: read here, or (a parameter read in stacks) in the first chunk's first stack
    prefix: list[NDArray[Any] | None] = []
    for st, t in zip(stats, targets, strict=True):
        value = values[t.index]
        if chunks and batch_size(int(np.size(value)), len(chunks[0]) + 1) > 1:
            prefix.append(np.array(value, copy=True))
        else:
            st.add_builds([value], t)
            prefix.append(None)
    del values
    starts = itertools.accumulate((len(c) for c in chunks[:-1]), initial=1)
    jobs = [
        _Chunk(
            adapter.builds, token, opts.spec, chunk, tuple(targets), shapes, start, reads, totals
        )
        for chunk, start in zip(chunks, starts, strict=True)
    ]
    if jobs:
        jobs[0] = dataclasses.replace(jobs[0], prefix=tuple(prefix))
    bar = tqdm(
        total=builds,
        initial=1,
        desc="audit",
        unit="build",
        file=sys.stderr,
        disable=None if opts.progress is None else not opts.progress,
    )
    numbers = itertools.count(2)

    def before() -> None:
        on_step(f"build {next(numbers)} of {builds}")

    finished = 1
    try:
        with _limited_while_forking() if forked else contextlib.nullcontext():
            for part, done in _results(jobs, executor, slots, before):
                for i, p in enumerate(part):
                    if stats[i].builds + stats[i].scanned:
                        stats[i].merge(p)
                    else:  # nothing read yet (the probe joined the first stack): taken whole
                        stats[i] = p
                bar.update(done)
                if executor is not None:
                    finished += done
                    on_step(f"the builds after {finished} of {builds}")
    finally:
        bar.close()
    with contextlib.ExitStack() as stack:
        closing = None  # the pool's shutdown (its workers' exit) while the tests run
        if forked and executor is not None:
            closer = stack.enter_context(ThreadPoolExecutor(1, "audit pool shutdown"))
            closing = closer.submit(executor.shutdown)
        on_step("the tests of every parameter")
        settings = AuditSettings(opts.alpha, opts.resolution, opts.seed, builds)
        rows = param_audits(sites, targets, stats, settings, opts.pool)
        if closing is not None:
            closing.result()  # raises what the shutdown raised
    rows = tuple(
        finish_row(
            dataclasses.replace(
                r,
                builds_needed=per_site.get(i, 0),
                builds_read=reads[i],
                builds_compared=totals[i],
            ),
            sites[i],
            stats[i],
            plans[i],
            firsts[i],
        )
        for i, r in enumerate(rows)
    )
    return AuditReport(opts.subject, builds, opts.seed, opts.alpha, rows, target=opts.resolution)


def _first(value: NDArray[Any]) -> float | None:
    """The first entry of a float array (None: empty or not float)."""
    a = np.asarray(value)
    return float(a.flat[0]) if a.size and a.dtype.kind == "f" else None


def _results(
    jobs: Sequence[_Chunk],
    executor: Executor | None,
    slots: int,
    before: Callable[[], None] | None = None,
) -> Iterator[tuple[list[ParamStats], int]]:
    """Each job's statistics in job order (and how many builds finished meanwhile): inline
    (``before`` called before each build), or at most ``2 slots`` jobs in flight on
    ``executor``."""
    if executor is None:
        for job in jobs:
            yield _reduce(job, before=before), len(job.seeds)
        return
    window = max(2 * slots, 1)
    todo = iter(enumerate(jobs))
    pending: dict[Future[list[ParamStats]], int] = {}
    ready: dict[int, list[ParamStats]] = {}
    nxt, finished = 0, 0

    def refill() -> None:
        while len(pending) < window:
            item = next(todo, None)
            if item is None:
                return
            pending[executor.submit(_reduce_in_worker, item[1])] = item[0]

    try:
        refill()
        while pending or nxt in ready:
            if nxt in ready:
                yield ready.pop(nxt), finished
                finished = 0
                nxt += 1
                continue
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                index = pending.pop(future)
                ready[index] = future.result()  # an AuditError is the factory's, as inline
                finished += len(jobs[index].seeds)
            refill()
    finally:
        for future in pending:
            future.cancel()


def audit_torch(
    factory: Callable[[], Any], options: AuditOptions | None = None, **kwargs: Any
) -> AuditReport:
    """Audit every parameter of ``factory()`` (a ``torch.nn.Module``; module docstring) under
    ``options`` (an :class:`~weight_init.properties.audit._result.AuditOptions`) or its
    keywords (``builds``, ``seed``, ``expect``, ``alpha``, ``resolution``, ``max_builds``,
    ``pool``, ``workers``, ``subject``)."""
    return run_audit(TORCH, factory, options, **kwargs)


def _identify(z: NDArray[np.float64], fans: Fans) -> tuple[str, float, str, float, float, str]:
    """The identification of the entries ``z`` at ``fans`` (family, its KS distance, the
    closest registered scheme and its variance ratio, ``mean w^2``, the fitting ``c/n``
    rules), as the loop computes it from one stream of them."""
    z = np.asarray(z, dtype=np.float64)
    target = probe_target(0, (0, 1), None, None, z)
    st = ParamStats()
    st.add(z, target)
    ident = identify(st, target, fans)
    return ident.family, ident.distance, ident.closest, ident.ratio, ident.m2, ident.rules


def audit_command(
    spec: str,
    expect: Sequence[str],
    report: AuditReport,
    pool: bool = True,
    preset: str | None = None,
) -> str:
    """The ``weight-init audit`` command line that reproduces ``report`` of ``spec``."""
    args = ["weight-init", "audit", spec]
    if preset:
        args += ["--preset", preset]
    for rule in expect:
        args += ["--expect", rule]
    args += ["--builds", str(report.builds), "--seed", str(report.seed)]
    args += ["--alpha", f"{report.alpha:g}"]
    if report.target != DEFAULT_RESOLUTION:
        args += ["--resolution", f"{report.target:g}"]
    if not pool:
        args.append("--no-pooling")
    return shlex.join(args)
