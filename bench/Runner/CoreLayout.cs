using System.Globalization;

namespace Bench;

/// <summary>
/// Which cores the store, the server under test and wrk may use, so that none of them takes time from
/// another and the server's own cost shows. Without a layout every process shares every core.
/// </summary>
internal sealed record CoreLayout(string Store, string Server, string Load, int LoadThreads, int ServerCores)
{
    /// <summary>Fewer cores than this and disjoint sets would leave the store or wrk starved.</summary>
    public const int MinimumMachineCores = 8;

    /// <summary>
    /// The first cores for the store (two on a machine of 12 or more, one otherwise, whatever the server
    /// gets, since the store runs once for every core count), the next <paramref name="serverCores"/> for
    /// the server, and the rest, at least two, for wrk.
    /// </summary>
    public static CoreLayout For(int serverCores, int machineCores)
    {
        if (machineCores < MinimumMachineCores)
        {
            throw new ArgumentException(
                $"--cores pins the store, the server and wrk to cores of their own, which needs at least {MinimumMachineCores}; this machine has {machineCores}. Leave --cores out to share them.");
        }

        var store = machineCores >= 12 ? 2 : 1;
        var load = machineCores - store - serverCores;
        if (serverCores < 1 || load < 2)
        {
            throw new ArgumentException(
                $"--cores {serverCores} leaves too few of this machine's {machineCores} cores for the store and wrk: at most {machineCores - store - 2}.");
        }

        return new CoreLayout(
            Range(0, store), Range(store, serverCores), Range(store + serverCores, load), LoadThreads: load, serverCores);
    }

    /// <summary>Runs <paramref name="fileName"/> on <paramref name="cores"/> through taskset; as it is without them.</summary>
    public static (string FileName, IEnumerable<string> Arguments) Pinned(string? cores, string fileName, IEnumerable<string> arguments) =>
        cores is null ? (fileName, arguments) : ("taskset", ["--cpu-list", cores, fileName, .. arguments]);

    private static string Range(int first, int count) =>
        count == 1 ? first.ToString(CultureInfo.InvariantCulture) : $"{first}-{first + count - 1}";
}
