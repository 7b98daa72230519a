"""Datasets: the sharded on-disk format, building from MIDI, the bundled chorales, augmentation."""

from segue.data.build import BuildSummary, ReadOptions, build_dataset, find_midi_files
from segue.data.chorales import load_chorales, load_splits, split_indices
from segue.data.dataset import Dataset, DatasetWriter

__all__ = [
    "BuildSummary",
    "Dataset",
    "DatasetWriter",
    "ReadOptions",
    "build_dataset",
    "find_midi_files",
    "load_chorales",
    "load_splits",
    "split_indices",
]
