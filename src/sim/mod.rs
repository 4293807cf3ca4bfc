//! The Argo CD simulator (work in progress).
