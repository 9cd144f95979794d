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
    /// Redis keeps an append-only file and writes each write to it before it answers: a crash of the process
    /// loses nothing acknowledged. Flushing the file to disk is left to the operating system. With
    /// <c>everysec</c> Redis holds writes back in memory, for up to 2 s, while a background flush is slow, and
    /// answers them anyway: a kill then lost thousands of answered writes (<c>SlowDiskTests</c>). With
    /// <c>always</c> every answer waits for the disk, and creates fell from about 12,000 to 2,000 a second.
    /// A crash of the machine loses what the kernel had not written back; the cluster's replicas cover that.
    /// The container runs with these too.
    /// </summary>
    public static readonly string[] RedisAppendOnly = ["--appendonly", "yes", "--appendfsync", "no"];

    /// <summary>redis-server keeps its files in <paramref name="dataDirectory"/>, with <see cref="RedisAppendOnly"/>.</summary>
    public static string[] RedisServerDurability(string dataDirectory) => ["--dir", dataDirectory, .. RedisAppendOnly];

    /// <summary>
    /// A redis-server that is a node of a cluster: its view of the cluster in <c>nodes.conf</c> beside its data,
    /// so that the cluster forms again by itself after a restart, and a primary that stops answering for
    /// 2 s is replaced by its replica.
    /// </summary>
    public static readonly string[] RedisClusterNode = ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000"];

    /// <summary>Where an engine listens: <paramref name="port"/> on the loopback interface only.</summary>
    public static string[] Listen(string port) => ["--port", port, "--bind", Loopback];
}
