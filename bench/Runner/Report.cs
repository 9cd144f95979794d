using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Bench;

/// <summary>The results as Markdown: the machine, a table per engine and core count, warm-up curves, and each target met or not.</summary>
internal static class Report
{
    private const double MiB = 1024 * 1024;

    public static string Markdown(IReadOnlyList<EngineResult> engines, Options options, string chart)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"# Benchmark results{(options.Quick ? " (quick run: timings are not comparable)" : "")}");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Measured {DateTime.UtcNow:yyyy-MM-dd} on {Machine()}.");
        text.AppendLine(options.Cores.Any(cores => cores is not null)
            ? "The server under test (the service or the baseline) is pinned to the cores a table names, the store and wrk to cores of their own (taskset)."
            : "wrk, the store, the service and the baseline share every core of the machine, so throughput is diluted by the load generator's and the store's work: CPU per request is the figure to compare.");
        text.AppendLine(CultureInfo.InvariantCulture, $"{options.Connections} connections, {options.Duration.TotalSeconds:0} s a scenario after a {options.Warmup.TotalSeconds:0} s warm-up, {options.Users:N0} seeded users.");
        text.AppendLine("The service runs its production pipeline (Production environment, JWT bearer authentication, scope authorization, the shared rate limiter, OpenTelemetry metrics and traces, the store's circuit breaker, output caching in Redis, JSON logs), with its rate limit raised to 10^9 requests a second so that it never answers 429.");
        text.AppendLine("CPU per request is the process's user and system CPU time over the measured window, divided by the requests answered in it.");
        if (options.ServiceSettings.Count > 0)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"Service settings for this run: {string.Join(", ", options.ServiceSettings.Select(setting => $"`{setting.Key}={setting.Value}`"))}.");
        }

        text.AppendLine("The stores persist as the AppHost runs them (Garnet: append-only file, each write answered once committed; redis-server: append-only file, flushed before each answer; cluster nodes: append-only file, written before each answer and flushed by the OS, each write confirmed by a replica).");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"![Requests per second for a read by id, service and baseline]({chart})");

        foreach (var engine in engines)
        {
            text.AppendLine();
            text.AppendLine(CultureInfo.InvariantCulture, $"## {engine.Engine}");
            foreach (var run in engine.Runs)
            {
                AppendRun(text, run);
            }
        }

        text.AppendLine();
        text.AppendLine("## Targets");
        text.AppendLine();
        text.AppendLine("Judged on the run at 4 cores where there is one, otherwise on the last run.");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"| Target | {string.Join(" | ", engines.Select(e => e.Engine))} |");
        text.AppendLine(CultureInfo.InvariantCulture, $"|---|{string.Concat(engines.Select(_ => "---|"))}");
        foreach (var target in Targets)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| {target.Name} | {string.Join(" | ", engines.Select(e => target.Judge(e.Engine, Judged(e))))} |");
        }

        text.AppendLine();
        var readme = Path.GetRelativePath(Path.GetDirectoryName(options.Output)!, Path.Combine(Build.RepositoryRoot, "bench", "README.md")).Replace('\\', '/');
        text.AppendLine(CultureInfo.InvariantCulture,
            $"Where a target is not met, [bench/README.md]({readme}#targets-not-met-and-by-how-much) says by how much, why, and what the profile shows is left.");

        return text.ToString();
    }

    /// <summary>The heading <see cref="ScaleRun"/> writes its section under.</summary>
    public const string ScaleHeading = "## Scale";

    /// <summary>The heading <see cref="HistoryCheck"/> writes its section under.</summary>
    public const string HistoryHeading = "## History";

    /// <summary>The heading <see cref="CompareRun"/> writes its section under when the other build is a Native AOT one.</summary>
    public const string NativeHeading = "## Native AOT against JIT";

    /// <summary>The section of <paramref name="report"/> under <paramref name="heading"/>, up to the next heading; empty where it has none.</summary>
    public static string Section(string report, string heading)
    {
        var start = report.IndexOf(heading, StringComparison.Ordinal);
        if (start < 0)
        {
            return "";
        }

        var end = report.IndexOf("\n## ", start + heading.Length, StringComparison.Ordinal);
        return Environment.NewLine + report[start..(end < 0 ? report.Length : end + 1)].TrimEnd() + Environment.NewLine;
    }

    /// <summary>The report with the section under <paramref name="heading"/> replaced by <paramref name="section"/>; the rest stays as the last run wrote it.</summary>
    public static string WithSection(string report, string heading, string section)
    {
        var without = Section(report, heading) is { Length: > 0 } old ? report.Replace(old.Trim(), "", StringComparison.Ordinal) : report;
        return without.TrimEnd() + Environment.NewLine + Environment.NewLine + section;
    }

    /// <summary>Whether any scenario failed more than 1 % of its requests: a broken run, not a slow one.</summary>
    public static bool HasFailures(IEnumerable<EngineResult> engines) =>
        engines.SelectMany(e => e.Runs).SelectMany(r => r.Measurements)
            .Any(m => m.Service.Errors > m.Service.Requests / 100 || m.Baseline is { } b && b.Errors > b.Requests / 100);

    private static void AppendRun(StringBuilder text, CoreRun run)
    {
        text.AppendLine();
        if (run.Cores is { } cores)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"### {cores} {(cores == 1 ? "core" : "cores")}");
            text.AppendLine();
        }

        text.AppendLine("| Scenario | Requests/s | p50 ms | p99 ms | Errors | CPU µs/request | Baseline requests/s | Baseline CPU µs/request | Throughput vs baseline | CPU vs baseline | Peak RSS MiB |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var m in run.Measurements)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {m.Scenario.Name} | {m.Service.RequestsPerSecond:N0} | {m.Service.P50Milliseconds:0.00} | {m.Service.P99Milliseconds:0.00} | {m.Service.Errors} | {m.ServiceCpuPerRequest:0.0} | {Figure(m.Baseline?.RequestsPerSecond, "N0")} | {Figure(m.BaselineCpuPerRequest, "0.0")} | {Figure(m.Ratio, "P0")} | {Figure(m.CpuRatio, "0.00'×'")} | {m.ServiceUsage.PeakRssBytes / MiB:0} |");
        }

        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"Service RSS after the warm-up {run.RssAfterWarmup / MiB:0} MiB, after {run.RequestsServed:N0} requests {run.RssAtEnd / MiB:0} MiB.");
        text.AppendLine();
        text.AppendLine("Warm-up: requests per second for a read by id in each second after the server answered its first request, under load from then on.");
        text.AppendLine();
        var seconds = Math.Max(run.ServiceWarmup.RequestsPerSecond.Count, run.BaselineWarmup.RequestsPerSecond.Count);
        text.AppendLine(CultureInfo.InvariantCulture, $"| Server | Ready after | {string.Join(" | ", Enumerable.Range(1, seconds).Select(s => $"{s} s"))} |");
        text.AppendLine(CultureInfo.InvariantCulture, $"|---|---:|{string.Concat(Enumerable.Repeat("---:|", seconds))}");
        foreach (var (name, curve) in new[] { ("service", run.ServiceWarmup), ("baseline", run.BaselineWarmup) })
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {name} | {curve.StartToReady.TotalSeconds:0.0} s | {string.Join(" | ", curve.RequestsPerSecond.Select(rate => (rate / 1000).ToString("0.0'k'", CultureInfo.InvariantCulture)))} |");
        }
    }

    private static string Figure(double? value, string format) => value?.ToString(format, CultureInfo.InvariantCulture) ?? "";

    private static CoreRun Judged(EngineResult engine) => engine.Runs.FirstOrDefault(run => run.Cores == 4) ?? engine.Runs[^1];

    private sealed record Target(string Name, Func<string, CoreRun, string> Judge);

    private static readonly Target[] Targets =
    [
        new("get by id: CPU per request at most 1.33 × the baseline's", (_, run) => On(run, Scenario.GetById, m =>
            (m.CpuRatio <= 1.33, $"{m.CpuRatio:0.00}× ({m.ServiceCpuPerRequest:0.0} µs against {m.BaselineCpuPerRequest:0.0} µs); throughput {m.Ratio:P0}"))),
        new("get by id: p99 under 10 ms", (_, run) => On(run, Scenario.GetById, m =>
            (m.Service.P99Milliseconds < 10, $"{m.Service.P99Milliseconds:0.0} ms"))),
        new("warm-up: at least 90 % of peak within 5 s of the first request", (_, run) => On(run, Scenario.GetById, m =>
            run.ServiceWarmup.SecondReaching(0.9, m.Service.RequestsPerSecond) switch
            {
                { } second => (second <= 5, $"in second {second}"),
                null => (false, "not within the curve"),
            })),
        new("peak RSS under load at most 150 MB", (_, run) =>
            Verdict(run.PeakRss <= 150_000_000, $"{run.PeakRss / 1e6:0} MB; {run.RssAfterWarmup / MiB:0} → {run.RssAtEnd / MiB:0} MiB over the run")),
        new("list page of 50: at least 50 % of the baseline's requests/s", (_, run) => On(run, Scenario.ListPage, m =>
            (m.Ratio >= 0.5, $"{m.Ratio:P0}"))),
        new("create on redis-server: at least 15,000 a second", (engine, run) => engine != "redis-server" ? "–" : On(run, Scenario.Create, m =>
            (m.Service.RequestsPerSecond >= 15_000, $"{m.Service.RequestsPerSecond:N0}/s"))),
        new("create on Garnet: at least 5,000 a second", (engine, run) => engine != "garnet" ? "–" : On(run, Scenario.Create, m =>
            (m.Service.RequestsPerSecond >= 5_000, $"{m.Service.RequestsPerSecond:N0}/s"))),
    ];

    private static string On(CoreRun run, Scenario scenario, Func<Measurement, (bool Met, string Figure)> judge) =>
        run.Of(scenario) is { } measurement && judge(measurement) is var (met, figure)
            ? Verdict(met, figure)
            : "not run";

    /// <summary>A target's verdict in the report's words: met, or not met, and the figure it was judged on.</summary>
    public static string Verdict(bool met, string figure) => $"{(met ? "met" : "**not met**")}: {figure}";

    /// <summary>The machine a run measured on, in a line.</summary>
    public static string Machine()
    {
        var cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(line => line.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
            : null;
        var memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024.0 * 1024 * 1024);
        return $"{cpu ?? RuntimeInformation.ProcessArchitecture.ToString()}, {Environment.ProcessorCount} cores, {memory:0} GiB, {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}";
    }
}
