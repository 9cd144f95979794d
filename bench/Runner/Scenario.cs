namespace Bench;

/// <summary>One load shape: a wrk script, and whether the baseline can serve it too.</summary>
internal sealed record Scenario(string Name, string Script, bool HasBaseline)
{
    /// <summary>A scenario by its script's name: get, list, create, update or mix.</summary>
    public static Scenario Named(string name) =>
        All.SingleOrDefault(scenario => scenario.Script == $"{name}.lua")
        ?? throw new ArgumentException($"Unknown scenario '{name}': get, list, create, update or mix.");

    public static readonly Scenario GetById = new("get by id", "get.lua", HasBaseline: true);
    public static readonly Scenario ListPage = new("list page of 50", "list.lua", HasBaseline: true);
    public static readonly Scenario Create = new("create", "create.lua", HasBaseline: false);
    public static readonly Scenario Update = new("update", "update.lua", HasBaseline: false);
    public static readonly Scenario Mix = new("90/10 read/write", "mix.lua", HasBaseline: false);

    public static readonly Scenario[] All = [GetById, ListPage, Create, Update, Mix];
}

/// <summary>A scenario's measurement against the service, and against the baseline where it has one.</summary>
internal sealed record Measurement(Scenario Scenario, LoadResult Service, Usage ServiceUsage, LoadResult? Baseline, Usage? BaselineUsage)
{
    /// <summary>The service's throughput as a share of the baseline's.</summary>
    public double? Ratio => Baseline is { RequestsPerSecond: > 0 } baseline ? Service.RequestsPerSecond / baseline.RequestsPerSecond : null;

    public double ServiceCpuPerRequest => CpuPerRequest(Service, ServiceUsage);

    public double? BaselineCpuPerRequest => Baseline is { } baseline && BaselineUsage is { } usage ? CpuPerRequest(baseline, usage) : null;

    /// <summary>
    /// The service's CPU time per request over the baseline's: the figure that does not depend on whether
    /// wrk and the store shared the server's cores.
    /// </summary>
    public double? CpuRatio => BaselineCpuPerRequest is > 0 and var baseline ? ServiceCpuPerRequest / baseline : null;

    /// <summary>Microseconds of CPU (user and system) for each request answered.</summary>
    private static double CpuPerRequest(LoadResult load, Usage usage) => load.Requests > 0 ? usage.CpuSeconds * 1e6 / load.Requests : 0;
}

/// <summary>Requests per second in each second after a server was started, under load from the first.</summary>
internal sealed record WarmupCurve(TimeSpan StartToReady, IReadOnlyList<double> RequestsPerSecond)
{
    /// <summary>The first second whose throughput reached <paramref name="share"/> of <paramref name="peak"/>, counted from 1.</summary>
    public int? SecondReaching(double share, double peak) =>
        RequestsPerSecond.Select((rate, index) => (rate, index)).FirstOrDefault(point => point.rate >= share * peak) is var (rate, index) && rate > 0
            ? index + 1
            : null;
}

/// <summary>Everything measured with the server on one core count (null: sharing every core).</summary>
internal sealed record CoreRun(
    int? Cores,
    IReadOnlyList<Measurement> Measurements,
    WarmupCurve ServiceWarmup,
    WarmupCurve BaselineWarmup,
    long RssAfterWarmup,
    long RssAtEnd,
    long RequestsServed)
{
    public long PeakRss => Measurements.Select(m => m.ServiceUsage.PeakRssBytes).DefaultIfEmpty(RssAtEnd).Max();

    public Measurement? Of(Scenario scenario) => Measurements.SingleOrDefault(m => m.Scenario == scenario);
}

/// <summary>Everything measured on one engine.</summary>
internal sealed record EngineResult(string Engine, IReadOnlyList<CoreRun> Runs);
