using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using UserService.Tests.Infrastructure;

namespace Bench;

/// <summary>
/// This build of the service against another (<c>--compare</c>), such as its Native AOT publish: both started
/// on one store, each put under load a second at a time from the moment it is ready (its warm-up curve), then
/// reads by id alternated between them in short windows, so that whatever else the machine does in the
/// meantime falls on both alike. What each spends a read is the comparison: its CPU time, and the bytes it
/// allocates (the runtime's own counter, read from <c>/metrics</c>), which the machine's noise does not move;
/// beside them its time from exec to ready, peak resident set, throughput, p99 and size on disk.
/// </summary>
internal sealed partial class CompareRun(string other, Options options, Tokens tokens, string logDirectory)
{
    /// <summary>Windows a build is measured in, taking turns with the other.</summary>
    public const int Rounds = 8;

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
            Side[] sides = [await StartAsync(store, mine, "this", Build.Output("UserService")), await StartAsync(store, theirs, "other", other)];
            try
            {
                foreach (var side in sides)
                {
                    Console.WriteLine($"[compare, {engine}] warming up {side.Name} for {options.WarmupCurve.TotalSeconds} s");
                    for (var second = 0; second < options.WarmupCurve.TotalSeconds; second++)
                    {
                        side.Warmup.Add((await LoadAsync(side, TimeSpan.FromSeconds(1))).RequestsPerSecond);
                    }
                }

                for (var round = 1; round <= Rounds; round++)
                {
                    foreach (var side in sides)
                    {
                        await side.MeasureAsync(() => LoadAsync(side, Window));
                    }

                    Console.WriteLine($"[compare, {engine}] round {round} of {Rounds}: " + string.Join("; ", sides.Select(side => side.Summary())));
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

    private async Task<Side> StartAsync(Store store, string name, string logName, string assembly)
    {
        var ports = FreePort.Next(2);
        var started = Stopwatch.StartNew();
        var server = await EngineRun.StartServiceAsync(store, null, $"userservice-compare-{logName}", tokens, options, logDirectory, assembly, ports);
        return new Side(name, assembly, server, new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{ports[1]}/") }) { StartToReady = started.Elapsed };
    }

    private Task<LoadResult> LoadAsync(Side side, TimeSpan duration) =>
        Wrk.RunAsync(Scenario.GetById.Script, new Uri($"http://127.0.0.1:{side.Server.Port}/"), duration, options.Connections, token, options.Users);

    private static string Markdown(string engine, Side[] sides)
    {
        var (mine, theirs) = (sides[0], sides[1]);
        var report = new StringBuilder();
        report.AppendLine(Build.IsNative(theirs.Assembly) ? Report.NativeHeading : $"## This build against {theirs.Assembly}");
        if (Build.IsNative(theirs.Assembly))
        {
            report.AppendLine();
            report.AppendLine("This build as the JIT runs it, against its Native AOT publish (`dotnet publish UserService -c Release -r linux-x64 -p:PublishAot=true`).");
        }

        report.AppendLine();
        report.AppendLine(CultureInfo.InvariantCulture, $"Reads by id on {engine}, both builds up at once, {Rounds} windows of {Window.TotalSeconds:0} s each, taking turns; each warmed up a second at a time from the moment it was ready.");
        report.AppendLine();
        report.AppendLine("| Build | Exec to ready | Warm-up, req/s each second | Requests | Reads/s | p99 ms | CPU µs/request | KB allocated/request | Peak RSS | On disk |");
        report.AppendLine("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var side in sides)
        {
            report.AppendLine(CultureInfo.InvariantCulture,
                $"| {side.Name} | {side.StartToReady.TotalSeconds:0.00} s | {string.Join(" ", side.Warmup.Select(rate => (rate / 1000).ToString("0.0'k'", CultureInfo.InvariantCulture)))} | {side.Requests:N0} | {side.ReadsPerSecond:N0} | {side.P99Milliseconds:0.0} | {side.CpuPerRequest:N2} | {side.KilobytesPerRequest:N2} | {side.PeakRssBytes / 1048576.0:0} MiB | {SizeOnDisk(side.Assembly) / 1048576.0:0} MiB |");
        }

        report.AppendLine();
        report.AppendLine("On disk: a native executable alone; an assembly's folder without symbols and documentation, which also needs the shared .NET and ASP.NET Core runtimes.");

        report.AppendLine();
        report.AppendLine(CultureInfo.InvariantCulture,
            $"This build spends {Change(mine.CpuPerRequest, theirs.CpuPerRequest)} the CPU and allocates {Change(mine.KilobytesPerRequest, theirs.KilobytesPerRequest)} the bytes of the other, a read.");
        return report.ToString();
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

    /// <summary>One build under comparison, and what it spent over its windows.</summary>
    private sealed partial class Side(string name, string assembly, Server server, HttpClient management) : IAsyncDisposable
    {
        public string Name => name;

        public string Assembly => assembly;

        public Server Server => server;

        public long Requests { get; private set; }

        public TimeSpan StartToReady { get; init; }

        /// <summary>Reads a second in each second of load from the moment it was ready.</summary>
        public List<double> Warmup { get; } = [];

        public long PeakRssBytes { get; private set; }

        public double ReadsPerSecond => Requests / (Rounds * Window.TotalSeconds);

        /// <summary>The median of the windows' p99s.</summary>
        public double P99Milliseconds => p99s.Count == 0 ? 0 : p99s.Order().ElementAt(p99s.Count / 2);

        private readonly List<double> p99s = [];
        private double cpuSeconds;
        private double allocatedBytes;

        public double CpuPerRequest => Requests == 0 ? 0 : cpuSeconds / Requests * 1e6;

        public double KilobytesPerRequest => Requests == 0 ? 0 : allocatedBytes / Requests / 1024;

        public async Task MeasureAsync(Func<Task<LoadResult>> load)
        {
            var allocatedBefore = await AllocatedAsync();
            var (result, usage) = await Usage.MeasureAsync(server.Process, load);
            allocatedBytes += await AllocatedAsync() - allocatedBefore;
            cpuSeconds += usage.CpuSeconds;
            Requests += result.Requests;
            PeakRssBytes = Math.Max(PeakRssBytes, usage.PeakRssBytes);
            p99s.Add(result.P99Milliseconds);
        }

        public string Summary() => string.Create(CultureInfo.InvariantCulture, $"{name} {CpuPerRequest:0.0} µs, {KilobytesPerRequest:0.0} KB a read");

        /// <summary>The bytes the service allocated since it started, as its Prometheus endpoint reports them.</summary>
        private async Task<double> AllocatedAsync()
        {
            var metrics = await management.GetStringAsync("/metrics");
            return AllocatedBytes().Match(metrics) is { Success: true } found
                ? double.Parse(found.Groups[1].Value, CultureInfo.InvariantCulture)
                : throw new InvalidOperationException($"{name} reports no dotnet_gc_heap_total_allocated_bytes_total on /metrics.");
        }

        public async ValueTask DisposeAsync()
        {
            management.Dispose();
            await server.DisposeAsync();
        }

        [GeneratedRegex(@"^dotnet_gc_heap_total_allocated_bytes_total(?:\{[^}]*\})? (\S+)", RegexOptions.Multiline)]
        private static partial Regex AllocatedBytes();
    }
}
