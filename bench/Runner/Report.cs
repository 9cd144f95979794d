using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Bench;

/// <summary>The results as Markdown: the machine, a table per engine, and each target met or not.</summary>
internal static class Report
{
    private const double MiB = 1024 * 1024;

    public static string Markdown(IReadOnlyList<EngineResult> engines, Options options)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"# Benchmark results{(options.Quick ? " (quick run: timings are not comparable)" : "")}");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Measured {DateTime.UtcNow:yyyy-MM-dd} on {Machine()}, with wrk, the stores, the service and the baseline on that one machine.");
        text.AppendLine(CultureInfo.InvariantCulture, $"{options.Connections} connections from 2 wrk threads, {options.Duration.TotalSeconds:0} s a scenario after a {options.Warmup.TotalSeconds:0} s warm-up, {options.Users:N0} seeded users.");
        text.AppendLine("The service runs its production pipeline (Production environment, JWT bearer authentication, scope authorization, OpenTelemetry metrics and traces, output caching in Redis, JSON logs), with its rate limiter raised to 10^9 requests a second so that it never answers 429.");
        if (options.ServiceSettings.Count > 0)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"Service settings for this run: {string.Join(", ", options.ServiceSettings.Select(setting => $"`{setting.Key}={setting.Value}`"))}.");
        }

        text.AppendLine("The stores persist as the AppHost runs them (Garnet: append-only file, each write answered once committed; redis-server: append-only file, fsync every second).");

        foreach (var engine in engines)
        {
            text.AppendLine();
            text.AppendLine(CultureInfo.InvariantCulture, $"## {engine.Engine}");
            text.AppendLine();
            text.AppendLine("| Scenario | Requests/s | p50 ms | p99 ms | Errors | Baseline requests/s | Service / baseline | Peak RSS MiB | CPU s |");
            text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var m in engine.Measurements)
            {
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"| {m.Scenario.Name} | {m.Service.RequestsPerSecond:N0} | {m.Service.P50Milliseconds:0.00} | {m.Service.P99Milliseconds:0.00} | {m.Service.Errors} | {(m.Baseline is { } b ? b.RequestsPerSecond.ToString("N0", CultureInfo.InvariantCulture) : "")} | {(m.Ratio is { } r ? r.ToString("P0", CultureInfo.InvariantCulture) : "")} | {m.ServiceUsage.PeakRssBytes / MiB:0} | {m.ServiceUsage.CpuSeconds:0.0} |");
            }

            text.AppendLine();
            text.AppendLine(CultureInfo.InvariantCulture,
                $"Service RSS after the warm-up {engine.RssAfterWarmup / MiB:0} MiB, after {engine.RequestsServed:N0} requests {engine.RssAtEnd / MiB:0} MiB.");
        }

        text.AppendLine();
        text.AppendLine("## Targets");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"| Target | {string.Join(" | ", engines.Select(e => e.Engine))} |");
        text.AppendLine(CultureInfo.InvariantCulture, $"|---|{string.Concat(engines.Select(_ => "---|"))}");
        foreach (var target in Targets)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| {target.Name} | {string.Join(" | ", engines.Select(target.Judge))} |");
        }

        text.AppendLine();
        text.AppendLine("Where a target is not met, the README's Performance section says why.");

        return text.ToString();
    }

    /// <summary>Whether any scenario failed more than 1 % of its requests: a broken run, not a slow one.</summary>
    public static bool HasFailures(IEnumerable<EngineResult> engines) =>
        engines.SelectMany(e => e.Measurements).Any(m => m.Service.Errors > m.Service.Requests / 100 || m.Baseline is { } b && b.Errors > b.Requests / 100);

    private sealed record Target(string Name, Func<EngineResult, string> Judge);

    private static readonly Target[] Targets =
    [
        new("get by id: at least 75 % of the baseline's requests/s, p99 under 10 ms", On(Scenario.GetById, m =>
            (m.Ratio >= 0.75 && m.Service.P99Milliseconds < 10, $"{m.Ratio:P0}, p99 {m.Service.P99Milliseconds:0.0} ms"))),
        new("list page of 50: at least 50 % of the baseline's requests/s", On(Scenario.ListPage, m =>
            (m.Ratio >= 0.5, $"{m.Ratio:P0}"))),
        new("create: at least 5,000 a second", On(Scenario.Create, m =>
            (m.Service.RequestsPerSecond >= 5000, $"{m.Service.RequestsPerSecond:N0}/s"))),
        new("RSS under 150 MB, not growing", e =>
        {
            var peak = e.Measurements.Max(m => m.ServiceUsage.PeakRssBytes);
            return Verdict(peak < 150_000_000 && e.RssAtEnd <= e.RssAfterWarmup * 1.1, $"peak {peak / MiB:0} MiB, {e.RssAfterWarmup / MiB:0} → {e.RssAtEnd / MiB:0} MiB");
        }),
    ];

    private static Func<EngineResult, string> On(Scenario scenario, Func<Measurement, (bool Met, string Figure)> judge) => engine =>
        engine.Measurements.SingleOrDefault(m => m.Scenario == scenario) is { } measurement && judge(measurement) is var (met, figure)
            ? Verdict(met, figure)
            : "not run";

    private static string Verdict(bool met, string figure) => $"{(met ? "met" : "**not met**")}: {figure}";

    private static string Machine()
    {
        var cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(line => line.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
            : null;
        var memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024.0 * 1024 * 1024);
        return $"{cpu ?? RuntimeInformation.ProcessArchitecture.ToString()}, {Environment.ProcessorCount} cores, {memory:0} GiB, {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}";
    }
}
