using System.Globalization;

namespace Bench;

/// <summary>The command line: <c>--quick</c>, or any of the durations, sizes, engines and core counts spelled out.</summary>
internal sealed record Options(
    TimeSpan Duration,
    TimeSpan Warmup,
    TimeSpan WarmupCurve,
    int Users,
    int Connections,
    IReadOnlyList<int?> Cores,
    IReadOnlyList<int> Scale,
    IReadOnlyList<string> Engines,
    IReadOnlyList<Scenario> Scenarios,
    IReadOnlyDictionary<string, string> ServiceSettings,
    string Output,
    bool Quick,
    string? Compare = null,
    string? CompareBaseline = null,
    TimeSpan? History = null)
{
    public static Options Parse(string[] args)
    {
        // The quick run is CI's check that the runner works, not a measurement: 64 connections keep it from
        // overloading two shared cores (the full run uses 256).
        var quick = args.Contains("--quick");
        var output = Path.Combine(Build.RepositoryRoot, "bench", quick ? ".out" : "", "results.md");
        var options = quick
            ? new Options(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(3), 2_000, 64, [null], [], ["garnet", "redis-server", "cluster"], Scenario.All, new Dictionary<string, string>(), output, true)
            : new Options(TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(20), 10_000, 256, [null], [], ["garnet", "redis-server", "cluster"], Scenario.All, new Dictionary<string, string>(), output, false);

        for (var i = 0; i < args.Length; i++)
        {
            options = args[i] switch
            {
                "--quick" => options,
                "--duration" => options with { Duration = TimeSpan.FromSeconds(int.Parse(args[++i], CultureInfo.InvariantCulture)) },
                "--warmup" => options with { Warmup = TimeSpan.FromSeconds(int.Parse(args[++i], CultureInfo.InvariantCulture)) },
                "--users" => options with { Users = int.Parse(args[++i], CultureInfo.InvariantCulture) },
                "--connections" => options with { Connections = int.Parse(args[++i], CultureInfo.InvariantCulture) },
                "--cores" => options with { Cores = CoreCounts(args[++i]) },
                "--scale" => options with { Scale = [.. args[++i].Split(',').Select(size => int.Parse(size, CultureInfo.InvariantCulture))] },
                "--warmup-curve" => options with { WarmupCurve = TimeSpan.FromSeconds(int.Parse(args[++i], CultureInfo.InvariantCulture)) },
                "--engines" => options with { Engines = args[++i].Split(',') },
                "--scenarios" => options with { Scenarios = args[++i].Split(',').Select(Scenario.Named).ToList() },
                "--set" => options with { ServiceSettings = With(options.ServiceSettings, args[++i]) },
                "--output" => options with { Output = Path.GetFullPath(args[++i]) },
                "--compare" => options with { Compare = BuildOf("UserService", "--compare", args[++i]) },
                "--compare-baseline" => options with { CompareBaseline = BuildOf("Baseline", "--compare-baseline", args[++i]) },
                "--history" => options with { History = TimeSpan.FromSeconds(int.Parse(args[++i], CultureInfo.InvariantCulture)) },
                var unknown => throw new ArgumentException(
                    $"Unknown option '{unknown}'. Options: --quick, --duration <s>, --warmup <s>, --warmup-curve <s>, --users <n>, --connections <n>, "
                    + "--cores 1,2,4,8, --scale 10000,1000000, --engines garnet,redis-server,cluster, --scenarios get,list,create,update,mix, --set <service setting>=<value>, --output <file>, "
                    + "--compare <another build's UserService.dll or native UserService>, --compare-baseline <another build's Baseline.dll or native Baseline>, --history <s>."),
            };
        }

        return options;
    }

    /// <summary>
    /// Core counts to pin the server to, one run each (<c>1,2,4,8</c>); each is checked against the machine
    /// before anything starts.
    /// </summary>
    private static List<int?> CoreCounts(string list)
    {
        var cores = list.Split(',').Select(count => (int?)int.Parse(count, CultureInfo.InvariantCulture)).ToList();
        cores.ForEach(count => CoreLayout.For(count!.Value, Environment.ProcessorCount));
        return cores;
    }

    /// <summary>
    /// Another build of <paramref name="project"/> (the service or the baseline) to compare with this one: its
    /// assembly, its Native AOT executable, or the folder that holds either.
    /// </summary>
    private static string BuildOf(string project, string option, string path)
    {
        var build = Directory.Exists(path)
            ? new[] { $"{project}.dll", project }.Select(name => Path.Combine(path, name)).FirstOrDefault(File.Exists) ?? path
            : path;
        return File.Exists(build)
            ? Path.GetFullPath(build)
            : throw new ArgumentException($"{option} takes another build's {project}.dll, a native {project}, or its folder: there is none at '{path}'.");
    }

    /// <summary>A setting for the service, such as <c>Aspire__StackExchange__Redis__DisableTracing=true</c>, to measure what it costs.</summary>
    private static Dictionary<string, string> With(IReadOnlyDictionary<string, string> settings, string assignment)
    {
        var (key, value) = assignment.Split('=', 2) is [var k, var v] ? (k, v) : throw new ArgumentException($"--set takes <key>=<value>, not '{assignment}'.");
        return new Dictionary<string, string>(settings) { [key] = value };
    }
}
