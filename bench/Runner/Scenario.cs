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
internal sealed record Measurement(string Engine, Scenario Scenario, LoadResult Service, Usage ServiceUsage, LoadResult? Baseline)
{
    public double? Ratio => Baseline is { RequestsPerSecond: > 0 } baseline ? Service.RequestsPerSecond / baseline.RequestsPerSecond : null;
}

/// <summary>Everything measured on one engine.</summary>
internal sealed record EngineResult(string Engine, IReadOnlyList<Measurement> Measurements, long RssAfterWarmup, long RssAtEnd, long RequestsServed);
