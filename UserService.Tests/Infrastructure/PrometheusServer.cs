using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace UserService.Tests.Infrastructure;

/// <summary>
/// A real Prometheus server (Debian's <c>prometheus</c> package) of a test's own: it scrapes the service's
/// management port every second as job <c>userservice</c> and evaluates the repository's rules every second,
/// their windows and waits shortened sixty-fold (<see cref="TestSized"/>), so that an hour's alert plays out
/// in a minute.
/// </summary>
public sealed partial class PrometheusServer : IAsyncDisposable
{
    /// <summary>The rules as operators load them, copied from the repository's <c>deploy</c> folder.</summary>
    public static string RulesFile => Path.Combine(AppContext.BaseDirectory, "deploy", "prometheus", "userservice.rules.yml");

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private readonly DirectoryInfo directory;
    private readonly Process process;
    private readonly HttpClient client;

    private PrometheusServer(DirectoryInfo directory, Process process, int port)
    {
        (this.directory, this.process) = (directory, process);
        client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
    }

    public static async Task<PrometheusServer> StartAsync(Uri management)
    {
        Engines.RequireProgram("prometheus", "prometheus");
        var directory = Directory.CreateTempSubdirectory("userservice-prometheus-");
        var rules = Path.Combine(directory.FullName, "rules.yml");
        await File.WriteAllTextAsync(rules, TestSized(await File.ReadAllTextAsync(RulesFile)));
        var config = Path.Combine(directory.FullName, "prometheus.yml");
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            rule_files: ['{rules}']
            scrape_configs:
              - job_name: userservice
                static_configs:
                  - targets: ['{management.Authority}']
            """);

        var port = FreePort.Next();
        var process = Process.Start(new ProcessStartInfo("prometheus",
        [
            $"--config.file={config}", $"--storage.tsdb.path={Path.Combine(directory.FullName, "data")}",
            $"--web.listen-address=127.0.0.1:{port}", "--log.level=warn",
        ])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new PrometheusServer(directory, process, port);
        var ready = await Eventually.MatchAsync(
            cancellation => Eventually.ProbeAsync(server.client, "/-/ready", cancellation),
            status => status == System.Net.HttpStatusCode.OK || process.HasExited,
            StartTimeout);
        if (ready != System.Net.HttpStatusCode.OK)
        {
            await server.DisposeAsync();
            throw new InvalidOperationException($"Prometheus did not become ready ({ready}).");
        }

        return server;
    }

    /// <summary>
    /// The rules with every range and every <c>for</c> divided by sixty: <c>[1h]</c> becomes <c>[1m]</c>,
    /// <c>for: 2m</c> becomes two seconds. The expressions, thresholds and names stay as written.
    /// </summary>
    public static string TestSized(string rules) =>
        Duration().Replace(rules, match =>
        {
            var milliseconds = long.Parse(match.Groups["value"].Value, CultureInfo.InvariantCulture) * match.Groups["unit"].Value switch
            {
                "s" => 1_000L,
                "m" => 60_000L,
                "h" => 3_600_000L,
                "d" => 86_400_000L,
                var unit => throw new FormatException($"Unexpected duration unit '{unit}' in the rules."),
            };
            return $"{match.Groups["before"].Value}{milliseconds / 60}ms{match.Groups["after"].Value}";
        });

    /// <summary>The series an instant query of <paramref name="expression"/> returns now: each one's labels and value.</summary>
    public async Task<IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, double Value)>> QueryAsync(string expression, CancellationToken cancellation)
    {
        using var answer = await client.GetFromJsonAsync<JsonDocument>($"api/v1/query?query={Uri.EscapeDataString(expression)}", cancellation);
        var data = answer!.RootElement.GetProperty("data");
        return data.GetProperty("resultType").GetString() == "vector"
            ? [.. data.GetProperty("result").EnumerateArray().Select(series => (
                (IReadOnlyDictionary<string, string>)series.GetProperty("metric").EnumerateObject().ToDictionary(label => label.Name, label => label.Value.GetString()!),
                double.Parse(series.GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture)))]
            : throw new InvalidOperationException($"'{expression}' is not an instant vector.");
    }

    /// <summary>The alerts pending or firing now, by name, with their state.</summary>
    public async Task<IReadOnlyDictionary<string, string>> AlertsAsync(CancellationToken cancellation)
    {
        using var answer = await client.GetFromJsonAsync<JsonDocument>("api/v1/alerts", cancellation);
        return answer!.RootElement.GetProperty("data").GetProperty("alerts").EnumerateArray()
            .GroupBy(alert => alert.GetProperty("labels").GetProperty("alertname").GetString()!)
            .ToDictionary(alerts => alerts.Key, alerts => alerts.Any(alert => alert.GetProperty("state").GetString() == "firing") ? "firing" : "pending");
    }

    /// <summary>The rules Prometheus loaded, with each one's health and the error of its last evaluation.</summary>
    public async Task<IReadOnlyList<(string Name, string Query, string Health, string? Error)>> RulesAsync(CancellationToken cancellation)
    {
        using var answer = await client.GetFromJsonAsync<JsonDocument>("api/v1/rules", cancellation);
        return [.. answer!.RootElement.GetProperty("data").GetProperty("groups").EnumerateArray()
            .SelectMany(group => group.GetProperty("rules").EnumerateArray())
            .Select(rule => (
                rule.GetProperty("name").GetString()!,
                rule.GetProperty("query").GetString()!,
                rule.GetProperty("health").GetString()!,
                rule.TryGetProperty("lastError", out var error) ? error.GetString() : null))];
    }

    public async ValueTask DisposeAsync()
    {
        client.Dispose();
        if (!process.HasExited)
        {
            process.Kill();
            await process.WaitForExitAsync();
        }

        process.Dispose();
        directory.Delete(recursive: true);
    }

    // A range in brackets ([5m]) or a rule's wait (for: 2m).
    [GeneratedRegex(@"(?<before>\[|for:\s*)(?<value>\d+)(?<unit>[smhd])(?<after>\]|\s*$)", RegexOptions.Multiline)]
    private static partial Regex Duration();
}
