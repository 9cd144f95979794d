using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Bench;

/// <summary>What one wrk run measured.</summary>
internal sealed record LoadResult(double RequestsPerSecond, double P50Milliseconds, double P99Milliseconds, long Requests, long Errors);

/// <summary>Runs wrk with one of the scripts in bench/scripts and reads its summary.</summary>
internal static partial class Wrk
{
    /// <summary>Runs <paramref name="script"/> against <paramref name="target"/>; on the layout's load cores where there is one.</summary>
    public static async Task<LoadResult> RunAsync(
        string script, Uri target, TimeSpan duration, int connections, string token, int users, CoreLayout? layout = null)
    {
        var scripts = Path.Combine(Build.RepositoryRoot, "bench", "scripts");
        var threads = layout?.LoadThreads ?? 2;
        var (fileName, arguments) = CoreLayout.Pinned(layout?.Load, "wrk",
        [
            "--threads", threads.ToString(CultureInfo.InvariantCulture),
            "--connections", Math.Max(connections, threads).ToString(CultureInfo.InvariantCulture),
            "--duration", $"{Math.Max(1, (int)duration.TotalSeconds)}s", "--timeout", "5s", "--latency",
            "--script", Path.Combine(scripts, script), target.ToString(),
        ]);
        var startInfo = new ProcessStartInfo(fileName, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        startInfo.Environment["BENCH_SCRIPTS"] = scripts;
        startInfo.Environment["BENCH_TOKEN"] = token;
        startInfo.Environment["BENCH_USERS"] = users.ToString(CultureInfo.InvariantCulture);

        using var wrk = Process.Start(startInfo) ?? throw new InvalidOperationException("wrk did not start.");
        var output = await wrk.StandardOutput.ReadToEndAsync();
        var errors = await wrk.StandardError.ReadToEndAsync();
        await wrk.WaitForExitAsync();
        if (wrk.ExitCode != 0 || !RequestsPerSecond().IsMatch(output))
        {
            throw new InvalidOperationException($"wrk failed ({wrk.ExitCode}):\n{output}\n{errors}");
        }

        return Parse(output);
    }

    internal static LoadResult Parse(string output)
    {
        var socketErrors = SocketErrors().Match(output);
        var errors = (Number(NonSuccess().Match(output)) ?? 0)
            + (socketErrors.Success ? socketErrors.Groups.Values.Skip(1).Sum(group => long.Parse(group.Value, CultureInfo.InvariantCulture)) : 0);
        return new LoadResult(
            double.Parse(RequestsPerSecond().Match(output).Groups[1].Value, CultureInfo.InvariantCulture),
            Milliseconds(Percentile(output, "50%")),
            Milliseconds(Percentile(output, "99%")),
            Number(Requests().Match(output)) ?? 0,
            errors);
    }

    private static Match Percentile(string output, string percentile) =>
        Regex.Match(output, $@"^\s+{Regex.Escape(percentile)}\s+([\d.]+)(us|ms|s)\s*$", RegexOptions.Multiline);

    private static double Milliseconds(Match match)
    {
        var value = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        return match.Groups[2].Value switch
        {
            "us" => value / 1000,
            "ms" => value,
            _ => value * 1000,
        };
    }

    private static long? Number(Match match) =>
        match.Success ? long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : null;

    [GeneratedRegex(@"^Requests/sec:\s+([\d.]+)", RegexOptions.Multiline)]
    private static partial Regex RequestsPerSecond();

    [GeneratedRegex(@"^\s+(\d+) requests in", RegexOptions.Multiline)]
    private static partial Regex Requests();

    [GeneratedRegex(@"Non-2xx or 3xx responses: (\d+)")]
    private static partial Regex NonSuccess();

    [GeneratedRegex(@"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")]
    private static partial Regex SocketErrors();
}
