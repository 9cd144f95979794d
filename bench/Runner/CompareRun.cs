using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using UserService.Tests.Infrastructure;

namespace Bench;

/// <summary>
/// This build of the service against another (<c>--compare</c>), such as its Native AOT publish, with the
/// baseline beside them as the ceiling (the Release build, and another build of it with
/// <c>--compare-baseline</c>): all started on one store, each put under load a second at a time from the
/// moment it is ready (its warm-up curve), then reads by id alternated between them in short windows, so that
/// whatever else the machine does in the meantime falls on all alike, then creates alternated between the two
/// builds of the service. What each spends a request is the comparison: its CPU time, and the bytes it
/// allocates (the runtime's own counter, read from the service's <c>/metrics</c>), which the machine's noise
/// does not move; beside them its time from exec to ready, peak resident set, throughput, p99 and size on disk.
/// </summary>
internal sealed partial class CompareRun(string other, string? otherBaseline, Options options, Tokens tokens, string logDirectory)
{
    /// <summary>Windows each build serves reads in, taking turns with the others.</summary>
    public const int Rounds = 8;

    /// <summary>Windows each build of the service creates users in, taking turns with the other.</summary>
    public const int CreateRounds = 3;

    public static readonly TimeSpan Window = TimeSpan.FromSeconds(3);

    private readonly string token = tokens.Create();

    public async Task<string> RunAsync()
    {
        var engine = options.Engines[0];
        var dataDirectory = Directory.CreateTempSubdirectory($"userservice-compare-{engine}-").FullName;
        try
        {
            await using var store = await Store.StartAsync(engine, dataDirectory, cores: null, logDirectory);
            await using (var seeding = await EngineRun.StartServiceAsync(store, null, "userservice-seeding", tokens, options, logDirectory))
            {
                Console.WriteLine($"[compare, {engine}] seeding {options.Users:N0} users");
                await EngineRun.SeedAsync(new Uri($"http://127.0.0.1:{seeding.Port}/"), token, options.Users);
            }

            var (mine, theirs) = Build.IsNative(other) ? ("JIT", "Native AOT") : ("this build", "the other");
            var baseline = Build.Output(Path.Combine("bench", "Baseline"));
            List<Side> sides =
            [
                await StartServiceAsync(store, mine, "this", Build.Output("UserService")),
                await StartServiceAsync(store, theirs, "other", other),
                await StartBaselineAsync(store, $"baseline, {mine}", "this", baseline),
            ];
            if (otherBaseline is not null)
            {
                sides.Add(await StartBaselineAsync(store, $"baseline, {theirs}", "other", otherBaseline));
            }

            try
            {
                foreach (var side in sides)
                {
                    Console.WriteLine($"[compare, {engine}] warming up {side.Name} for {options.WarmupCurve.TotalSeconds} s");
                    for (var second = 0; second < options.WarmupCurve.TotalSeconds; second++)
                    {
                        side.Warmup.Add((await LoadAsync(Scenario.GetById, side, TimeSpan.FromSeconds(1))).RequestsPerSecond);
                    }
                }

                for (var round = 1; round <= Rounds; round++)
                {
                    foreach (var side in sides)
                    {
                        await side.Reads.MeasureAsync(side, () => LoadAsync(Scenario.GetById, side, Window));
                    }

                    Console.WriteLine($"[compare, {engine}] reads, round {round} of {Rounds}: " + string.Join("; ", sides.Select(side => side.Reads.Summary(side.Name))));
                }

                for (var round = 1; round <= CreateRounds; round++)
                {
                    foreach (var side in sides.Where(side => side.IsService))
                    {
                        await side.Creates.MeasureAsync(side, () => LoadAsync(Scenario.Create, side, Window));
                    }

                    Console.WriteLine($"[compare, {engine}] creates, round {round} of {CreateRounds}: " + string.Join("; ", sides.Where(side => side.IsService).Select(side => side.Creates.Summary(side.Name))));
                }

                return Markdown(engine, sides);
            }
            finally
            {
                foreach (var side in sides)
                {
                    await side.DisposeAsync();
                }
            }
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    private async Task<Side> StartServiceAsync(Store store, string name, string logName, string build)
    {
        var ports = FreePort.Next(2);
        var started = Stopwatch.StartNew();
        var server = await EngineRun.StartServiceAsync(store, null, $"userservice-compare-{logName}", tokens, options, logDirectory, build, ports);
        return new Side(name, build, server, new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{ports[1]}/") }) { StartToReady = started.Elapsed };
    }

    private async Task<Side> StartBaselineAsync(Store store, string name, string logName, string build)
    {
        var started = Stopwatch.StartNew();
        var server = await EngineRun.StartBaselineAsync(store, null, $"baseline-compare-{logName}", logDirectory, build);
        return new Side(name, build, server, metrics: null) { StartToReady = started.Elapsed };
    }

    private Task<LoadResult> LoadAsync(Scenario scenario, Side side, TimeSpan duration) =>
        Wrk.RunAsync(scenario.Script, new Uri($"http://127.0.0.1:{side.Server.Port}/"), duration, options.Connections, token, options.Users);

    private static string Markdown(string engine, List<Side> sides)
    {
        var (mine, theirs) = (sides[0], sides[1]);
        var native = Build.IsNative(theirs.Build);
        var report = new StringBuilder();
        report.AppendLine(native ? Report.NativeHeading : $"## This build against {theirs.Build}");
        report.AppendLine();
        report.AppendLine(CultureInfo.InvariantCulture, $"Measured {DateTime.UtcNow:yyyy-MM-dd} on {Report.Machine()}, everything sharing every core.");
        if (native)
        {
            report.AppendLine("The service and the baseline as the JIT runs them, against their Native AOT publishes (`dotnet publish UserService -c Release -r linux-x64 -p:PublishAot=true`, the same for `bench/Baseline`).");
        }

        report.AppendLine();
        report.AppendLine(CultureInfo.InvariantCulture,
            $"On {engine}, every build up at once, each warmed up a second at a time from the moment it was ready; then reads by id in {Rounds} windows of {Window.TotalSeconds:0} s each, taking turns, and creates in {CreateRounds} windows each, the two builds of the service taking turns.");
        report.AppendLine();
        report.AppendLine("| Build | Exec to ready | Warm-up, reads/s each second | Reads/s | p99 ms | CPU µs/read | KB allocated/read | Creates/s | CPU µs/create | Peak RSS | On disk |");
        report.AppendLine("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var side in sides)
        {
            report.AppendLine(CultureInfo.InvariantCulture,
                $"| {side.Name} | {side.StartToReady.TotalSeconds:0.00} s | {string.Join(" ", side.Warmup.Select(rate => (rate / 1000).ToString("0.0'k'", CultureInfo.InvariantCulture)))} | {side.Reads.PerSecond:N0} | {side.Reads.P99Milliseconds:0.0} | {side.Reads.CpuPerRequest:N2} | {Figure(side.Reads.KilobytesPerRequest, "N2")} | {Figure(side.IsService ? side.Creates.PerSecond : null, "N0")} | {Figure(side.IsService ? side.Creates.CpuPerRequest : null, "N2")} | {side.PeakRssBytes / 1048576.0:0} MiB | {SizeOnDisk(side.Build) / 1048576.0:0} MiB |");
        }

        report.AppendLine();
        report.AppendLine("On disk: a native executable alone; an assembly's folder without symbols and documentation, which also needs the shared .NET and ASP.NET Core runtimes. Peak RSS: the most resident memory sampled while the build served its windows.");

        var ceiling = sides.Where(side => !side.IsService).MinBy(side => side.Reads.CpuPerRequest)!;
        report.AppendLine();
        report.AppendLine(CultureInfo.InvariantCulture,
            $"The ceiling is the baseline that spends less a read: {ceiling.Name}, {ceiling.Reads.CpuPerRequest:N2} µs. {Sentence(mine.Name)} spends {Change(mine.Reads.CpuPerRequest, ceiling.Reads.CpuPerRequest)} that, {theirs.Name} {Change(theirs.Reads.CpuPerRequest, ceiling.Reads.CpuPerRequest)}.");
        report.AppendLine(CultureInfo.InvariantCulture,
            $"{Sentence(theirs.Name)} against {mine.Name}: {Change(theirs.Reads.CpuPerRequest, mine.Reads.CpuPerRequest)} the CPU and {Change(theirs.Reads.KilobytesPerRequest ?? 0, mine.Reads.KilobytesPerRequest ?? 0)} the bytes allocated a read, {Change(theirs.Creates.CpuPerRequest, mine.Creates.CpuPerRequest)} the CPU a create, {Change(theirs.PeakRssBytes, mine.PeakRssBytes)} the peak RSS.");
        if (native)
        {
            AppendNativeTargets(report, theirs, mine, ceiling);
        }

        return report.ToString();
    }

    /// <summary>The native build against the targets set for it, judged on this run's shared cores.</summary>
    private static void AppendNativeTargets(StringBuilder report, Side native, Side jit, Side ceiling)
    {
        var peakMegabytes = native.PeakRssBytes / 1e6;
        var firstSecond = native.Warmup.Count > 0 ? native.Warmup[0] / native.Warmup.Max() : 0;
        var cpu = native.Reads.CpuPerRequest;
        report.AppendLine();
        report.AppendLine("| Target for the native build | Verdict |");
        report.AppendLine("|---|---|");
        report.AppendLine(CultureInfo.InvariantCulture, $"| Peak RSS under load at most 100 MB | {Report.Verdict(peakMegabytes <= 100, $"{peakMegabytes:0} MB")} |");
        report.AppendLine(CultureInfo.InvariantCulture, $"| Exec to ready at most 0.3 s | {Report.Verdict(native.StartToReady.TotalSeconds <= 0.3, $"{native.StartToReady.TotalSeconds:0.00} s")} |");
        report.AppendLine(CultureInfo.InvariantCulture, $"| At least 90 % of its best second in the first second of load | {Report.Verdict(firstSecond >= 0.9, $"{firstSecond:P0}")} |");
        report.AppendLine(CultureInfo.InvariantCulture,
            $"| CPU a read at most 1.33 × the better baseline's and no more than the JIT build's | {Report.Verdict(cpu <= 1.33 * ceiling.Reads.CpuPerRequest && cpu <= jit.Reads.CpuPerRequest, $"{Change(cpu, ceiling.Reads.CpuPerRequest)} the baseline's, {Change(cpu, jit.Reads.CpuPerRequest)} the JIT build's")} |");
        report.AppendLine("| Creates on redis-server at 4 dedicated cores at least 15,000 a second | not judged: these cores are shared (see the creates above) |");
        report.AppendLine();
        report.AppendLine("Where a target is not met, [bench/README.md](README.md#native-aot-against-jit) says why and what the profile shows.");
    }

    /// <summary>
    /// What a build needs of its own to run: a native executable, or an assembly's folder (its files and its
    /// <c>runtimes</c> folder, not the folders other builds left beside them) without symbols and documentation.
    /// </summary>
    private static long SizeOnDisk(string build)
    {
        if (Build.IsNative(build))
        {
            return new FileInfo(build).Length;
        }

        var folder = new DirectoryInfo(Path.GetDirectoryName(build)!);
        var runtimes = new DirectoryInfo(Path.Combine(folder.FullName, "runtimes"));
        return folder.EnumerateFiles()
            .Concat(runtimes.Exists ? runtimes.EnumerateFiles("*", SearchOption.AllDirectories) : [])
            .Where(file => file.Extension is not (".pdb" or ".xml"))
            .Sum(file => file.Length);
    }

    private static string Change(double mine, double theirs) =>
        theirs == 0 ? "–" : string.Create(CultureInfo.InvariantCulture, $"{mine / theirs:0.00}×");

    /// <summary>A build's name at the start of a sentence.</summary>
    private static string Sentence(string name) => char.ToUpperInvariant(name[0]) + name[1..];

    private static string Figure(double? value, string format) => value?.ToString(format, CultureInfo.InvariantCulture) ?? "–";

    /// <summary>
    /// One build under comparison: the service, whose <c>/metrics</c> on its management port report the
    /// bytes it allocates, or the baseline, which has none.
    /// </summary>
    private sealed partial class Side(string name, string build, Server server, HttpClient? metrics) : IAsyncDisposable
    {
        public string Name => name;

        public string Build => build;

        public Server Server => server;

        public bool IsService => metrics is not null;

        public TimeSpan StartToReady { get; init; }

        /// <summary>Reads a second in each second of load from the moment it was ready.</summary>
        public List<double> Warmup { get; } = [];

        public Windows Reads { get; } = new();

        public Windows Creates { get; } = new();

        public long PeakRssBytes => Math.Max(Reads.PeakRssBytes, Creates.PeakRssBytes);

        /// <summary>The bytes the service allocated since it started, as its Prometheus endpoint reports them; null for the baseline.</summary>
        public async Task<double?> AllocatedAsync()
        {
            if (metrics is null)
            {
                return null;
            }

            var text = await metrics.GetStringAsync("/metrics");
            return AllocatedBytes().Match(text) is { Success: true } found
                ? double.Parse(found.Groups[1].Value, CultureInfo.InvariantCulture)
                : throw new InvalidOperationException($"{name} reports no dotnet_gc_heap_total_allocated_bytes_total on /metrics.");
        }

        public async ValueTask DisposeAsync()
        {
            metrics?.Dispose();
            await server.DisposeAsync();
        }

        [GeneratedRegex(@"^dotnet_gc_heap_total_allocated_bytes_total(?:\{[^}]*\})? (\S+)", RegexOptions.Multiline)]
        private static partial Regex AllocatedBytes();
    }

    /// <summary>What a build spent over its windows of one kind of request.</summary>
    private sealed class Windows
    {
        private readonly List<double> p99s = [];
        private double cpuSeconds;
        private double? allocatedBytes;
        private int count;

        public long Requests { get; private set; }

        public long PeakRssBytes { get; private set; }

        public double PerSecond => count == 0 ? 0 : Requests / (count * Window.TotalSeconds);

        /// <summary>The median of the windows' p99s.</summary>
        public double P99Milliseconds => p99s.Count == 0 ? 0 : p99s.Order().ElementAt(p99s.Count / 2);

        public double CpuPerRequest => Requests == 0 ? 0 : cpuSeconds / Requests * 1e6;

        public double? KilobytesPerRequest => Requests == 0 ? null : allocatedBytes / Requests / 1024;

        public async Task MeasureAsync(Side side, Func<Task<LoadResult>> load)
        {
            var allocatedBefore = await side.AllocatedAsync();
            var (result, usage) = await Usage.MeasureAsync(side.Server.Process, load);
            allocatedBytes = (allocatedBytes ?? 0) + (await side.AllocatedAsync() - allocatedBefore);
            cpuSeconds += usage.CpuSeconds;
            Requests += result.Requests;
            PeakRssBytes = Math.Max(PeakRssBytes, usage.PeakRssBytes);
            p99s.Add(result.P99Milliseconds);
            count++;
        }

        public string Summary(string name) =>
            string.Create(CultureInfo.InvariantCulture, $"{name} {CpuPerRequest:0.0} µs{(KilobytesPerRequest is { } kilobytes ? $", {kilobytes:0.0} KB" : "")}");
    }
}
