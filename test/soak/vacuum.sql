-- VACUUM both tables (run by one client at a time, every few seconds)
VACUUM soak_hnsw;
VACUUM soak_ivf;
