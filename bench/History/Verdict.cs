using System.Globalization;
using System.Text;

namespace History;

/// <summary>What the checker found in one run, and the run's figures.</summary>
public sealed record Verdict(
    int Requests,
    int AcknowledgedWrites,
    IReadOnlyDictionary<int, int> Statuses,
    IReadOnlyDictionary<string, int> Faults,
    IReadOnlyDictionary<string, (int Count, List<string> Examples)> Violations,
    TimeSpan Slowest,
    TimeSpan LongestWithoutCreate,
    TimeSpan Duration)
{
    public bool Holds => Violations.Count == 0;

    /// <summary>The figures as one table row: engine, requests, acknowledged writes, faults, violations, slowest answer, longest window without an acknowledged create.</summary>
    public string TableRow(string engine) => string.Create(CultureInfo.InvariantCulture,
        $"| {engine} | {Duration.TotalSeconds:0} s | {Requests:N0} | {AcknowledgedWrites:N0} | {Describe(Faults)} | {(Holds ? "none" : Describe(Violations.ToDictionary(pair => pair.Key, pair => pair.Value.Count)))} | {Slowest.TotalSeconds:0.00} s | {LongestWithoutCreate.TotalSeconds:0.0} s |");

    public const string TableHeader =
        "| engine | run | requests | acknowledged writes | faults | violations | slowest answer | longest without an acknowledged create |\n" +
        "|---|---:|---:|---:|---|---|---:|---:|";

    /// <summary>Everything, for a test's or a run's log: figures, answers by status, and each violation with examples.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{Requests:N0} requests over {Duration.TotalSeconds:0} s, {AcknowledgedWrites:N0} writes acknowledged; ");
        text.Append(CultureInfo.InvariantCulture, $"answers {string.Join(", ", Statuses.Select(pair => $"{pair.Key}: {pair.Value}"))}; ");
        text.Append(CultureInfo.InvariantCulture, $"faults {Describe(Faults)}; slowest answer {Slowest.TotalMilliseconds:N0} ms; ");
        text.Append(CultureInfo.InvariantCulture, $"longest without an acknowledged create {LongestWithoutCreate.TotalSeconds:0.0} s.");
        foreach (var (kind, (count, examples)) in Violations)
        {
            text.Append(CultureInfo.InvariantCulture, $"\n{kind}: {count}");
            foreach (var example in examples)
            {
                text.Append("\n  ").Append(example);
            }
        }

        return text.ToString();
    }

    private static string Describe(IReadOnlyDictionary<string, int> counts) =>
        counts.Count == 0 ? "none" : string.Join(", ", counts.OrderBy(pair => pair.Key, StringComparer.Ordinal).Select(pair => string.Create(CultureInfo.InvariantCulture, $"{pair.Value} × {pair.Key}")));
}
