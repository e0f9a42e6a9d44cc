//! The simulator over loopback HTTP: protocol, signatures, errors, lifecycles, paging.
