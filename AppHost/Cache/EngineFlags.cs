namespace AppHost.Cache;

/// <summary>
/// The command-line flags the local engines run with, written once: the AppHost, the tests' store servers and
/// the benchmark all start Garnet and redis-server with these.
/// </summary>
public static class EngineFlags
{
    /// <summary>A local store serves this machine only.</summary>
    public const string Loopback = "127.0.0.1";

    /// <summary>
    /// Scripts keep multi-key writes atomic; Garnet runs scripts concurrently unless transaction mode locks
    /// the keys a script declares.
    /// </summary>
    public static readonly string[] GarnetScripts = ["--lua", "--lua-transaction-mode"];

    /// <summary>
    /// Every write goes to the append-only file under <paramref name="dataDirectory"/>; on start the latest
    /// checkpoint and the file are replayed. Answers wait for the file's commit: without that, a kill -9 was
    /// seen to lose an acknowledged write. The default native device needs libaio, which a plain Linux
    /// install may lack.
    /// </summary>
    public static string[] GarnetDurability(string dataDirectory) =>
        ["--aof", "--aof-commit-wait", "--recover", "--checkpointdir", dataDirectory, "--device-type", "RandomAccess"];

    /// <summary>
    /// A single redis-server holds the only copy of its data: it answers a write only once the write is in its
    /// append-only file and flushed to disk (<c>appendfsync always</c>), so that neither a crash of the process
    /// nor one of the machine loses an acknowledged write. Redis flushes once for all the writes of a turn of
    /// its event loop, which cost about 12 % of creates. Redis's default, <c>everysec</c>, holds writes back in
    /// memory while a background flush is slow, for up to 2 s, and answers them anyway: a kill then loses them
    /// (<c>SlowDiskTests</c>). The container runs with these too.
    /// </summary>
    public static readonly string[] RedisAppendOnly = ["--appendonly", "yes", "--appendfsync", "always"];

    /// <summary>redis-server keeps its files in <paramref name="dataDirectory"/>, with <see cref="RedisAppendOnly"/>.</summary>
    public static string[] RedisServerDurability(string dataDirectory) => ["--dir", dataDirectory, .. RedisAppendOnly];

    /// <summary>
    /// A node of the cluster writes each write to its append-only file before it answers and leaves the flush
    /// to the operating system (<c>appendfsync no</c>): a crash of the process loses nothing acknowledged, and
    /// a crash of the machine is what the replica is for, since every write waits for one. Flushing before
    /// each answer as well cut the cluster's creates by more than half.
    /// </summary>
    public static string[] RedisClusterNodeDurability(string dataDirectory) =>
        ["--dir", dataDirectory, "--appendonly", "yes", "--appendfsync", "no"];

    /// <summary>
    /// A redis-server that is a node of a cluster: its view of the cluster in <c>nodes.conf</c> beside its data,
    /// so that the cluster forms again by itself after a restart, and a primary that stops answering for
    /// 2 s is replaced by its replica.
    /// </summary>
    public static readonly string[] RedisClusterNode = ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000"];

    /// <summary>Where an engine listens: <paramref name="port"/> on the loopback interface only.</summary>
    public static string[] Listen(string port) => ["--port", port, "--bind", Loopback];
}
