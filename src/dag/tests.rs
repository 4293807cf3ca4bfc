//! Unit tests of the DAG file, validation, selection and planning.
