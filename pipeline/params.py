"""The parameters of params.yaml: one typed, closed definition per section.

These classes are the only place that holds a parameter's default (the value a command uses when
params.yaml leaves the key out); code reads the defaults from here. `io.load_params` validates
the file against `Params`: a key that is not declared (at any depth) or a value of the wrong type
is an `InputError` naming the file and the dotted key, so a typo like `export.alcr` stops the
command instead of being silently ignored.

The validated result is handed to the stages as plain dicts (`as_dict`), with every default
filled in. A key whose default is None ("not set": derived from other data, e.g. a task's
`features` defaults to the task name) is left out of the dict, so `.get(key)` and `key in section`
keep meaning "not given".

Only pydantic and pipeline.errors are imported here: every stage imports this module.
"""

from __future__ import annotations

import copy
import functools
import types
import typing
from typing import Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from pipeline.errors import InputError

# An int stays an int and a float a float: the dumped value keeps the type written in params.yaml
# (a float field would turn `25` into `25.0`, which would change what reports record).
Number = Union[int, float]
Auto = Literal["auto"]


class Section(BaseModel):
    """A closed section: keys not declared here are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _empty_is_defaults(cls, data: Any) -> Any:
        # An empty section (`export:` with every line commented out) or key (`workers:`) loads as
        # None: the defaults, as the code gave before. An unknown key stays, to be reported.
        if data is None:
            return {}
        if isinstance(data, dict):
            declared = {f.alias or n for n, f in cls.model_fields.items()}
            return {k: v for k, v in data.items() if v is not None or k not in declared}
        return data


class DataParams(Section):
    raw: str = "data/raw/sample"  # dvc.yaml's ingest input (${data.raw}); no command reads it


class SampleParams(Section):
    """`dcnet sample`: the embedded reference data center."""

    seed: int = 20261128
    zones: int = 2
    racks_per_zone: int = 6
    hosts_per_rack: int = 20
    projects: int = 80
    faults_per_kind: int = 2


class BenchmarkDCParams(Section):
    """`dcnet sample --realism hard --variant a|b`: None = the `sample` section's value."""

    seed: Optional[int] = None
    projects: Optional[int] = None
    zones: Optional[int] = None
    racks_per_zone: Optional[int] = None
    hosts_per_rack: Optional[int] = None
    faults_per_kind: int = 0       # the benchmark plants no faults
    labelled: Number = 0.6         # share of projects listed in labels.csv


class BenchmarkTargetsParams(Section):
    """Recorded beside the measured value; None = not reported."""

    project_profile_transfer_macro_f1: Optional[Number] = None
    port_role_scrubbed_cv_macro_f1: Optional[Number] = None
    tstr_gap: Optional[Number] = None
    demand_mae_reduction: Optional[Number] = None


class BenchmarkParams(Section):
    a: BenchmarkDCParams = BenchmarkDCParams()
    b: BenchmarkDCParams = BenchmarkDCParams()
    targets: BenchmarkTargetsParams = BenchmarkTargetsParams()


class IngestParams(Section):
    on_bad_file: str = "error"     # error | skip (checked by the ingest stage, which names them)
    workers: int = 1
    split_above_bytes: int = 48 << 20   # decoded files above this are split into chunks
    chunk_bytes: int = 16 << 20
    pool_min_bytes: int = 16 << 20      # below this total, process start-up costs more than it saves
    max_decompressed_bytes: int = 4 << 30  # per gzip file; beyond it the file is bad (gzip bombs)


class ValidateParams(Section):
    max_quarantine_fraction: Number = 0.05
    workers: int = 2  # processes for the local engine's single-table checks (1: this one)


class FeaturesParams(Section):
    name_hash_buckets: int = 16


class LabelsParams(Section):
    naming_pattern: Optional[str] = None   # None: no naming labels
    classes: list[str] = []
    naming_aliases: dict[str, str] = {}
    min_naming_share: Number = 0.5


class TaskParams(Section):
    """One entry of `tasks:`; `features` and `labeler` default to the task's name."""

    features: Optional[str] = None
    labeler: Optional[str] = None
    label_sources: Optional[list[str]] = None   # None: every source the labeler gives
    forbid_sources: list[str] = []
    evaluate_on_source: Optional[str] = None
    rule_baseline: Optional[str] = None
    scrubbed_forbid_sources: Optional[list[str]] = None  # None: no scrubbed benchmark view
    exclude_classes: list[str] = []
    model: Optional[str] = None            # None: train.model


class TrainModelsParams(Section):
    """Hyperparameters per model (checked against the estimator by the train stage)."""

    logistic_regression: dict[str, Any] = {}
    random_forest: dict[str, Any] = {}
    hist_gradient_boosting: dict[str, Any] = {}


class TrainParams(Section):
    model: str = "random_forest"   # checked by the train stage, which lists the valid names
    cv_folds: int = 5
    seed: int = 0
    threads: int = 1
    bootstrap: int = 1000          # bootstrap resamples of the macro-F1 confidence interval
    models: TrainModelsParams = TrainModelsParams()


class DemandParams(Section):
    seed: Optional[int] = None     # None: train.seed
    cv_folds: int = 5
    n_estimators: int = 200


class SynthesizeParams(Section):
    seed: int = 7
    hosts: int = 240
    projects: Union[int, Literal["auto"]] = "auto"   # auto: hosts x learned projects per host
    mix: Union[Literal["as_learned"], dict[str, Number]] = "as_learned"
    max_ports_per_host: int = 500
    zones: Union[int, Literal["auto", "as_learned"]] = "auto"   # auto: as learned
    shards: int = 1   # independent shards of projects (1..256; 1: one stream, as before shards)


class FabricParams(Section):
    topology: str = "auto"         # auto | leaf_spine | fat_tree (checked by fabric.py)
    hosts_per_rack: int = 20
    spines: Union[int, Auto] = "auto"
    host_link_gbps: Number = 25
    uplink_gbps: Number = 100
    fat_tree_k: Union[int, Auto] = "auto"


class EvaluateSyntheticParams(Section):
    seed: int = 11
    holdout_share: Number = 0.3
    min_fidelity: Number = 0.9
    tstr_seeds: list[int] = [11, 12, 13, 14, 15, 16, 17, 18, 19, 20]  # 3 seeds: +-0.15 from the draws alone
    tstr_holdout_share: Number = 0.3
    tstr_max_gap: Number = 0.05


class MerakImageParams(Section):
    name: str = ""
    registry: str = ""
    cmd: list[str] = []
    args: list[str] = []


class AlcorParams(Section):
    nodes_per_request: int = 1000
    server_port: int = 50001
    ncm_uri: str = "http://localhost:9014"
    flat_segmentation_id: int = 0


class K6Params(Section):
    concurrency: int = 10


class ExportParams(Section):
    formats: list[str] = ["all"]
    max_png_nodes: int = 300
    workers: int = 1
    mininet_inline_max_hosts: int = 200
    # the tenant view (--topo dcnet_tenant) grows with VMs x rules: 95 MB of JSON (6 MB gzip) at
    # the sample's 5.6k VMs, and mn starts ~13 nodes/s; above it, none is written (counted)
    mininet_tenant_max_vms: int = 6000
    vm_opts: dict[str, Any] = {}
    containerlab_max_nodes: int = 2500
    containerlab_switch_kind: str = "bridge"   # bridge | ovs-bridge (checked by the exporter)
    containerlab_image: str = "alpine:3.20"
    containerlab_mgmt_ipv4_base: str = "100.64.0.0/10"  # RFC 6598: outside Docker's default pools
    # merak-topo picks images by "ACA"/"OVS" in the name and deploys `registry` as the image;
    # these are the images of Merak's own end-to-end test.
    merak_images: list[MerakImageParams] = [
        MerakImageParams(name="ACA", registry="meraksim/merak-agent:dev"),
        MerakImageParams(name="OVS", registry="yanmo96/ovs_only:latest"),
    ]
    merak_data_plane_cidr: str = ""     # "": the /16 holding most hosts' underlay IPs
    merak_ports_per_vswitch: int = 0    # 0: the fabric's widest switch, raised as needed
    alcor: AlcorParams = AlcorParams()
    k6: K6Params = K6Params()


class EngineParams(Section):
    """Where stages run (pipeline/engine.py checks the values: kind local|dask, workers >= 1)."""

    kind: str = "local"
    address: str = ""     # dask: a running scheduler; "": dcnet starts a LocalCluster
    workers: int = 2      # LocalCluster worker processes
    temp_dir: str = ""    # dask: ingest's temporary files ("": the system's)
    partition_rows: int = 250_000  # rows per partition: in Dask (validate) and on disk (io.write_tables)
    memory_limit: str | int = ""  # dask LocalCluster: memory per worker ("4GB"); "": Dask's default


class Params(Section):
    """The whole params.yaml."""

    engine: EngineParams = EngineParams()
    data: DataParams = DataParams()
    sample: SampleParams = SampleParams()
    benchmark: BenchmarkParams = BenchmarkParams()
    ingest: IngestParams = IngestParams()
    validate_: ValidateParams = Field(ValidateParams(), alias="validate")  # shadows BaseModel.validate
    features: FeaturesParams = FeaturesParams()
    labels: LabelsParams = LabelsParams()
    tasks: dict[str, TaskParams] = {}
    train: TrainParams = TrainParams()
    demand: DemandParams = DemandParams()
    synthesize: SynthesizeParams = SynthesizeParams()
    fabric: FabricParams = FabricParams()
    evaluate_synthetic: EvaluateSyntheticParams = EvaluateSyntheticParams()
    export: ExportParams = ExportParams()

    @model_validator(mode="after")
    def _task_names_as_defaults(self) -> "Params":
        filled = {name: task.model_copy(update={"features": task.features or name,
                                                "labeler": task.labeler or name})
                  for name, task in self.tasks.items()}
        object.__setattr__(self, "tasks", filled)  # frozen: set once, while validating
        return self


def as_dict(params: Params) -> dict[str, Any]:
    """Plain nested dicts, every default filled, None ("not set") left out."""
    return params.model_dump(by_alias=True, exclude_none=True)


def defaults() -> dict[str, Any]:
    """Every section with its defaults (what a params file without them gives)."""
    return as_dict(Params())


def default(dotted: str) -> Any:
    """The default of one key, e.g. `default("ingest.workers")`; code reads defaults from here."""
    value: Any = _all_defaults()
    for part in dotted.split("."):
        value = value[part]
    return copy.deepcopy(value)  # the cached defaults stay as declared


@functools.cache
def _all_defaults() -> dict[str, Any]:
    return Params().model_dump(by_alias=True)


def _attribute(model: type[BaseModel], key: str) -> str:
    """The field behind a key as params.yaml spells it (`validate` -> `validate_`)."""
    for name, field in model.model_fields.items():
        if key == (field.alias or name):
            return name
    raise KeyError(key)


def keys(model: type[BaseModel] = Params) -> list[str]:
    """The keys of a section as params.yaml spells them."""
    return [field.alias or name for name, field in model.model_fields.items()]


def declared(dotted: str) -> bool:
    """Is `dotted` (e.g. `export.alcor.ncm_uri`) a key of the definition? Any name is a task."""
    annotation: Any = Params
    for part in dotted.split("."):
        if _is_model(annotation):
            try:
                annotation = _unwrap_optional(annotation.model_fields[_attribute(annotation, part)].annotation)
            except KeyError:
                return False
        elif typing.get_origin(annotation) is dict:
            annotation = _unwrap_optional(typing.get_args(annotation)[1])
        else:
            return False
    return True


def validate(raw: Any, source: str) -> Params:
    """`raw` (a loaded YAML document) as Params; InputError `<source>: <dotted key>: <problem>`."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise InputError(f"{source}: expected a mapping of sections, got {type(raw).__name__}")
    try:
        return Params.model_validate(raw)
    except ValidationError as e:
        raise InputError(f"{source}: {_problem(_most_specific(e.errors()))}") from None


# --- one line per problem -------------------------------------------------------------------


def _most_specific(errors: list[dict[str, Any]]) -> dict[str, Any]:
    """The first error, or a deeper one under the same key (a union reports each member: for
    `mix: {web: x}` the share `mix.web`, not "mix is not as_learned")."""
    first = _walk(errors[0]["loc"])[0]
    under = [e for e in errors if _walk(e["loc"])[0][:len(first)] == first]
    return max(under, key=lambda e: len(_walk(e["loc"])[0]))


def _problem(error: dict[str, Any]) -> str:
    """`dotted.key: what is wrong` of one pydantic error."""
    path, annotation = _walk(error["loc"])
    where = ".".join(path) or "(top level)"
    if error["type"] == "extra_forbidden":
        parent = _walk(error["loc"][:-1])[1]
        known = ", ".join(keys(parent)) if _is_model(parent) else ""
        return f"{where}: unknown key" + (f" (known: {known})" if known else "")
    got = error.get("input")
    if annotation is not None:
        return f"{where}: expected {_describe(annotation)}, got {got!r}"
    return f"{where}: {error['msg'][0].lower()}{error['msg'][1:]}, got {got!r}"


def _walk(loc: tuple) -> tuple[list[str], Any]:
    """The dotted key of a pydantic error location and the declared type found there.

    Union members add a tag to the location (e.g. `int`, `literal['auto']`): not a key, skipped;
    a mapping or list member's tag leads into it (its keys or items come next).
    """
    path: list[str] = []
    annotation: Any = Params
    for part in loc:
        if annotation is not None and _is_union(annotation):
            # the tag names the member that failed; the key is the union's own
            members = [a for a in typing.get_args(annotation)
                       if str(part).startswith(f"{getattr(typing.get_origin(a), '__name__', '')}[")]
            annotation = members[0] if members else annotation
            continue
        if isinstance(part, int):
            path[-1:] = [f"{path[-1]}[{part}]"] if path else [f"[{part}]"]
            annotation = _item(annotation)
            continue
        path.append(str(part))
        if _is_model(annotation):
            try:
                annotation = annotation.model_fields[_attribute(annotation, str(part))].annotation
            except KeyError:
                annotation = None
        elif typing.get_origin(annotation) is dict:
            annotation = typing.get_args(annotation)[1]
        else:
            annotation = None
        annotation = _unwrap_optional(annotation)
    return path, annotation


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _is_union(annotation: Any) -> bool:
    return typing.get_origin(annotation) in (Union, types.UnionType)


def _unwrap_optional(annotation: Any) -> Any:
    if _is_union(annotation):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(members) == 1:
            return members[0]
    return annotation


def _item(annotation: Any) -> Any:
    if typing.get_origin(annotation) is list:
        return _unwrap_optional(typing.get_args(annotation)[0])
    return None


def _describe(annotation: Any) -> str:
    if _is_union(annotation):
        parts = [_describe(a) for a in typing.get_args(annotation) if a is not type(None)]
        if set(parts) == {"an integer", "a number"}:
            return "a number"
        return " or ".join(dict.fromkeys(parts))
    if typing.get_origin(annotation) is Literal:
        return " or ".join(repr(v) for v in typing.get_args(annotation))
    if typing.get_origin(annotation) is dict or _is_model(annotation):
        return "a mapping"
    if typing.get_origin(annotation) is list:
        return "a list"
    return {int: "an integer", float: "a number", str: "a string", bool: "true or false"}.get(
        annotation, getattr(annotation, "__name__", str(annotation)))
