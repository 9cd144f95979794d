using System.Text.RegularExpressions;
using UserService.Tests.Infrastructure;

namespace UserService.Tests.ClosedBox.Operations;

/// <summary>
/// The Prometheus rules as operators load them (<c>deploy/prometheus</c>): valid for promtool, every alert
/// proven by its unit tests to fire when it should and to stay silent when it should not, and every alert
/// labelled with a severity and linked to its runbook entry in <c>docs/operations.md</c>.
/// </summary>
public sealed partial class AlertRulesTests
{
    /// <summary>docs/operations.md, whose runbook each alert links to, copied beside the tests.</summary>
    public static string RunbookFile => Path.Combine(AppContext.BaseDirectory, "docs", "operations.md");

    private static string UnitTestsFile => Path.ChangeExtension(PrometheusServer.RulesFile, ".test.yml");

    [Fact]
    public async Task RulesPassPromtoolsCheck()
    {
        var (exitCode, output) = await PromtoolAsync("check", "rules", PrometheusServer.RulesFile);

        Assert.True(exitCode == 0, output);
    }

    [Fact]
    public async Task RulesPassTheirUnitTests()
    {
        var (exitCode, output) = await PromtoolAsync("test", "rules", UnitTestsFile);

        Assert.True(exitCode == 0, output);
    }

    [Fact]
    public async Task EveryAlertHasAFiringAndASilentCaseInTheUnitTests()
    {
        var tests = await File.ReadAllTextAsync(UnitTestsFile, TestContext.Current.CancellationToken);
        var silent = SilentCase().Matches(tests).Select(match => match.Groups["name"].Value).ToHashSet();
        var firing = FiringCase().Matches(tests).Select(match => match.Groups["name"].Value).ToHashSet();

        foreach (var alert in await AlertsAsync())
        {
            Assert.True(silent.Contains(alert.Name), $"{alert.Name} has no case in which it stays silent.");
            Assert.True(firing.Contains(alert.Name), $"{alert.Name} has no case in which it fires.");
        }
    }

    [Fact]
    public async Task EveryAlertHasASeverityASummaryAndARunbookEntry()
    {
        var runbook = await File.ReadAllTextAsync(RunbookFile, TestContext.Current.CancellationToken);
        var alerts = await AlertsAsync();

        Assert.True(alerts.Count >= 12, $"Found only {alerts.Count} alerts.");
        foreach (var alert in alerts)
        {
            Assert.Matches(@"severity: (page|ticket)\n", alert.Text);
            Assert.Matches(@"summary: "".+""\n", alert.Text);
            Assert.Contains($"runbook_url: docs/operations.md#{alert.Name.ToLowerInvariant()}\n", alert.Text);
            Assert.Contains($"\n### {alert.Name}\n", runbook);
        }
    }

    /// <summary>Each alert of the rules file, by name, with the lines that define it.</summary>
    private static async Task<IReadOnlyList<(string Name, string Text)>> AlertsAsync()
    {
        var rules = await File.ReadAllTextAsync(PrometheusServer.RulesFile, TestContext.Current.CancellationToken);
        return [.. Alert().Matches(rules).Select(match => (match.Groups["name"].Value, match.Value))];
    }

    private static Task<(int ExitCode, string Output)> PromtoolAsync(params string[] arguments)
    {
        Engines.RequireProgram("promtool", "prometheus");
        return ProgramRun.RunAsync("promtool", arguments, Path.GetDirectoryName(PrometheusServer.RulesFile));
    }

    // From "- alert: Name" up to the next rule or group.
    [GeneratedRegex(@"- alert: (?<name>\w+)\n(?:(?!\s*- (?:alert|record|name):).*\n)*")]
    private static partial Regex Alert();

    [GeneratedRegex(@"alertname: (?<name>\w+), exp_alerts: \[\]")]
    private static partial Regex SilentCase();

    [GeneratedRegex(@"alertname: (?<name>\w+)\n\s+exp_alerts:\n\s+- exp_labels:")]
    private static partial Regex FiringCase();
}
