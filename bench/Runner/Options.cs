using System.Globalization;

namespace Bench;

/// <summary>The command line: <c>--quick</c>, or any of the durations, sizes and engines spelled out.</summary>
internal sealed record Options(TimeSpan Duration, TimeSpan Warmup, int Users, int Connections, IReadOnlyList<string> Engines, string Output, bool Quick)
{
    public static Options Parse(string[] args)
    {
        var quick = args.Contains("--quick");
        var output = Path.Combine(Build.RepositoryRoot, "bench", quick ? ".out" : "", "results.md");
        var options = quick
            ? new Options(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(1), 2_000, 64, ["garnet", "redis-server"], output, true)
            : new Options(TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(5), 10_000, 64, ["garnet", "redis-server"], output, false);

        for (var i = 0; i < args.Length; i++)
        {
            options = args[i] switch
            {
                "--quick" => options,
                "--duration" => options with { Duration = TimeSpan.FromSeconds(int.Parse(args[++i], CultureInfo.InvariantCulture)) },
                "--warmup" => options with { Warmup = TimeSpan.FromSeconds(int.Parse(args[++i], CultureInfo.InvariantCulture)) },
                "--users" => options with { Users = int.Parse(args[++i], CultureInfo.InvariantCulture) },
                "--connections" => options with { Connections = int.Parse(args[++i], CultureInfo.InvariantCulture) },
                "--engines" => options with { Engines = args[++i].Split(',') },
                "--output" => options with { Output = Path.GetFullPath(args[++i]) },
                var unknown => throw new ArgumentException(
                    $"Unknown option '{unknown}'. Options: --quick, --duration <s>, --warmup <s>, --users <n>, --connections <n>, --engines garnet,redis-server, --output <file>."),
            };
        }

        return options;
    }
}
