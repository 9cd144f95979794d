using System.Text.Json;
using System.Text.RegularExpressions;

namespace UserService.Tests.ClosedBox.Operations;

/// <summary>
/// The Grafana dashboard as operators load it (<c>deploy/grafana/dashboards/userservice.json</c>): every
/// panel says what it shows and in which unit, asks the dashboard's Prometheus, and has a place of its own.
/// Its fit to Grafana's schema is checked by <c>deploy/grafana/check</c> (CI runs it), and every query it makes
/// is run against the live service by <see cref="LiveAlertingTests"/>.
/// </summary>
public sealed partial class DashboardTests
{
    public static string DashboardFile => Path.Combine(AppContext.BaseDirectory, "deploy", "grafana", "dashboards", "userservice.json");

    /// <summary>The dashboard's panels, rows left out.</summary>
    public static IReadOnlyList<JsonElement> Panels()
    {
        using var dashboard = JsonDocument.Parse(File.ReadAllText(DashboardFile));
        return [.. dashboard.RootElement.GetProperty("panels").EnumerateArray()
            .Where(panel => panel.GetProperty("type").GetString() != "row")
            .Select(panel => panel.Clone())];
    }

    /// <summary>Each query of a panel, as Grafana sends it once its variables are filled in: every replica, and a window of <paramref name="rateInterval"/>.</summary>
    public static IEnumerable<(string Panel, string Query)> Queries(string rateInterval) =>
        Panels().SelectMany(panel => panel.GetProperty("targets").EnumerateArray().Select(target => (
            panel.GetProperty("title").GetString()!,
            target.GetProperty("expr").GetString()!
                .Replace("$instance", ".+", StringComparison.Ordinal)
                .Replace("$__rate_interval", rateInterval, StringComparison.Ordinal))));

    [Fact]
    public void EveryPanelHasATitleADescriptionAUnitAndAQueryOfTheDashboardsPrometheus()
    {
        var panels = Panels();

        Assert.True(panels.Count >= 15, $"Found only {panels.Count} panels.");
        Assert.All(panels, panel =>
        {
            var title = panel.GetProperty("title").GetString();
            Assert.False(string.IsNullOrWhiteSpace(title));
            Assert.False(string.IsNullOrWhiteSpace(panel.GetProperty("description").GetString()), $"{title} has no description.");
            Assert.False(string.IsNullOrWhiteSpace(panel.GetProperty("fieldConfig").GetProperty("defaults").GetProperty("unit").GetString()), $"{title} has no unit.");
            Assert.Equal("${datasource}", panel.GetProperty("datasource").GetProperty("uid").GetString());
            Assert.Contains(panel.GetProperty("targets").EnumerateArray(), target => !string.IsNullOrWhiteSpace(target.GetProperty("expr").GetString()));
        });
    }

    [Fact]
    public void PanelsFitTheGridWithoutOverlapping()
    {
        using var dashboard = JsonDocument.Parse(File.ReadAllText(DashboardFile));
        var places = dashboard.RootElement.GetProperty("panels").EnumerateArray()
            .Select(panel => (
                Title: panel.GetProperty("title").GetString(),
                Id: panel.GetProperty("id").GetInt32(),
                Grid: panel.GetProperty("gridPos") is var grid
                    ? (X: grid.GetProperty("x").GetInt32(), Y: grid.GetProperty("y").GetInt32(), W: grid.GetProperty("w").GetInt32(), H: grid.GetProperty("h").GetInt32())
                    : default))
            .ToList();

        Assert.Equal(places.Count, places.Select(place => place.Id).Distinct().Count());
        Assert.All(places, place => Assert.True(place.Grid.X >= 0 && place.Grid.X + place.Grid.W <= 24, $"{place.Title} does not fit in 24 columns."));
        foreach (var (first, second) in places.SelectMany((a, i) => places.Skip(i + 1).Select(b => (a, b))))
        {
            var overlap = first.Grid.X < second.Grid.X + second.Grid.W && second.Grid.X < first.Grid.X + first.Grid.W
                && first.Grid.Y < second.Grid.Y + second.Grid.H && second.Grid.Y < first.Grid.Y + first.Grid.H;
            Assert.False(overlap, $"{first.Title} and {second.Title} overlap.");
        }
    }

    [Fact]
    public async Task EveryPanelTheRunbookSendsOperatorsToIsOnTheDashboard()
    {
        var runbook = await File.ReadAllTextAsync(AlertRulesTests.RunbookFile, TestContext.Current.CancellationToken);
        var titles = Panels().Select(panel => panel.GetProperty("title").GetString()).ToHashSet();
        var named = NamedPanel().Matches(runbook).Select(match => match.Groups["title"].Value.ReplaceLineEndings(" ")).ToList();

        Assert.True(named.Count >= 10, $"The runbook names only {named.Count} panels.");
        Assert.All(named, title => Assert.True(titles.Contains(title), $"The runbook names a panel the dashboard does not have: {title}"));
    }

    // "the *Ready replicas* panel", "the *Rate limiter* and *Answers by status* panels"
    [GeneratedRegex(@"\*(?<title>[^*]+)\*(?= panel| and \*[^*]+\* panels)")]
    private static partial Regex NamedPanel();
}
