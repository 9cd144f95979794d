using Bench;

// Benchmarks the user service against a bare minimal API on the same store, for each local store engine.
// dotnet run --project bench/Runner -c Release [-- --quick | --scale <sizes> | --history <seconds> | --compare <build>]
Options options;
try
{
    options = Options.Parse(args);
}
catch (Exception exception) when (exception is ArgumentException or FormatException)
{
    Console.Error.WriteLine(exception.Message);
    return 2;
}

var started = DateTime.UtcNow;
var logs = Path.Combine(Build.RepositoryRoot, "bench", ".out");
Directory.CreateDirectory(logs);
if (Build.Configuration != "Release")
{
    Console.WriteLine($"Warning: a {Build.Configuration} build; run with -c Release for figures worth comparing.");
}

var tokens = new Tokens();
if (options.Scale.Count > 0)
{
    // The scale check alone: what a replica's start and the repair cost as the store grows.
    var scaled = new List<ScaleResult>();
    foreach (var users in options.Scale)
    {
        scaled.Add(await new ScaleRun(options, tokens, logs).RunAsync(users));
    }

    // The scale section of the report is replaced; the rest of it stays as the last full run wrote it.
    var scaleReport = ScaleRun.Markdown(scaled);
    Directory.CreateDirectory(Path.GetDirectoryName(options.Output)!);
    var existing = File.Exists(options.Output) ? await File.ReadAllTextAsync(options.Output) : "# Benchmark results" + Environment.NewLine;
    await File.WriteAllTextAsync(options.Output, Report.WithSection(existing, Report.ScaleHeading, scaleReport));
    Console.WriteLine(scaleReport);
    Console.WriteLine($"Written to the scale section of {Path.GetRelativePath(Build.RepositoryRoot, options.Output)}.");
    return 0;
}

if (options.History is { } duration)
{
    // The history checker's long run alone; its section of the report is replaced.
    var verdicts = new List<(string Engine, History.Verdict Verdict)>();
    foreach (var engine in options.Engines.Where(HistoryCheck.Engines.Contains))
    {
        verdicts.Add((engine, await new HistoryCheck(options, tokens, logs).RunAsync(engine, duration)));
    }

    var historyReport = HistoryCheck.Markdown(verdicts, duration);
    Directory.CreateDirectory(Path.GetDirectoryName(options.Output)!);
    var existing = File.Exists(options.Output) ? await File.ReadAllTextAsync(options.Output) : "# Benchmark results" + Environment.NewLine;
    await File.WriteAllTextAsync(options.Output, Report.WithSection(existing, Report.HistoryHeading, historyReport));
    Console.WriteLine(historyReport);
    Console.WriteLine($"Written to the history section of {Path.GetRelativePath(Build.RepositoryRoot, options.Output)}; every request and answer in bench/.out/history-*.txt.");
    return verdicts.All(verdict => verdict.Verdict.Holds) ? 0 : 1;
}

if (options.Compare is { } other)
{
    // This build against another, side by side with the baseline; against a native build the report's section
    // of its own is replaced, otherwise the comparison stays out of it.
    var comparison = await new CompareRun(other, options.CompareBaseline, options, tokens, logs).RunAsync();
    var written = Path.Combine(logs, "compare.md");
    await File.WriteAllTextAsync(written, comparison);
    if (Build.IsNative(other))
    {
        var existing = File.Exists(options.Output) ? await File.ReadAllTextAsync(options.Output) : "# Benchmark results" + Environment.NewLine;
        await File.WriteAllTextAsync(options.Output, Report.WithSection(existing, Report.NativeHeading, comparison));
        written = options.Output;
    }

    Console.WriteLine();
    Console.WriteLine(comparison);
    Console.WriteLine($"Written to {Path.GetRelativePath(Build.RepositoryRoot, written)}.");
    return ReportUnhandledExceptions() ? 1 : 0;
}

var results = new List<EngineResult>();
foreach (var engine in options.Engines)
{
    results.Add(await new EngineRun(engine, options, tokens, logs).RunAsync());
}

var chart = Path.ChangeExtension(options.Output, ".svg");
// A full run keeps the sections that a --scale, a --history and a native --compare run wrote.
var previous = File.Exists(options.Output) ? await File.ReadAllTextAsync(options.Output) : "";
var report = Report.Markdown(results, options, Path.GetFileName(chart))
    + Report.Section(previous, Report.ScaleHeading) + Report.Section(previous, Report.HistoryHeading) + Report.Section(previous, Report.NativeHeading);
Directory.CreateDirectory(Path.GetDirectoryName(options.Output)!);
await File.WriteAllTextAsync(options.Output, report);
await File.WriteAllTextAsync(chart, Chart.Svg(results));
Console.WriteLine();
Console.WriteLine(report);
Console.WriteLine($"Written to {Path.GetRelativePath(Build.RepositoryRoot, options.Output)} and {Path.GetFileName(chart)}; process logs in bench/.out/.");

var unhandled = ReportUnhandledExceptions();
if (Report.HasFailures(results))
{
    Console.Error.WriteLine("More than 1 % of a scenario's requests failed: see the Errors column and the logs.");
    return 1;
}

return unhandled ? 1 : 0;

// Names each service log of this run that holds an unhandled exception; says whether there was one.
bool ReportUnhandledExceptions()
{
    var found = ServiceLogs.UnhandledExceptions(logs, started);
    foreach (var (log, exceptions) in found)
    {
        Console.Error.WriteLine($"The service failed {exceptions} request(s) with an unhandled exception: see bench/.out/{log}.");
    }

    return found.Count > 0;
}
