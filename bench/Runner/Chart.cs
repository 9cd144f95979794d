using System.Globalization;
using System.Net;
using System.Text;

namespace Bench;

/// <summary>An SVG bar chart of reads by id a second: the service beside the baseline, for each engine and core count.</summary>
internal static class Chart
{
    private const int Height = 320;
    private const int Top = 40;
    private const int Bottom = 60;
    private const int Left = 70;
    private const int BarWidth = 36;
    private const int GroupGap = 40;
    private const int CharacterWidth = 7;
    private const int TitleCharacterWidth = 8;
    private const string Title = "Reads by id, requests per second: service (dark) and baseline (light)";

    public static string Svg(IReadOnlyList<EngineResult> engines)
    {
        var groups = engines
            .SelectMany(engine => engine.Runs.Select(run => (
                Label: run.Cores is { } cores ? $"{engine.Engine}, {cores} {(cores == 1 ? "core" : "cores")}" : engine.Engine,
                Measurement: run.Of(Scenario.GetById))))
            .Where(group => group.Measurement is not null)
            .ToList();
        var peak = groups.Select(group => Math.Max(group.Measurement!.Service.RequestsPerSecond, group.Measurement.Baseline?.RequestsPerSecond ?? 0)).DefaultIfEmpty(1).Max();
        var (scale, ticks) = Axis(peak);
        var plot = Height - Top - Bottom;
        // Wide enough that the labels under neighbouring groups ("redis-server, 8 cores") do not run together.
        var pitch = Math.Max(2 * BarWidth + GroupGap, groups.Select(group => group.Label.Length * CharacterWidth + GroupGap / 2).DefaultIfEmpty(0).Max());
        var width = Math.Max(Left + groups.Count * pitch + GroupGap, Left + Title.Length * TitleCharacterWidth);

        var svg = new StringBuilder();
        svg.AppendLine(CultureInfo.InvariantCulture, $"""<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{Height}" font-family="sans-serif" font-size="12">""");
        svg.AppendLine("""<rect width="100%" height="100%" fill="white"/>""");
        svg.AppendLine(CultureInfo.InvariantCulture, $"""<text x="{Left}" y="20" font-size="14">{Title}</text>""");
        for (var tick = 0; tick <= ticks; tick++)
        {
            var value = scale * tick / ticks;
            var y = Top + plot - plot * tick / (double)ticks;
            svg.AppendLine(CultureInfo.InvariantCulture, $"""<line x1="{Left}" x2="{width - GroupGap / 2}" y1="{y:0.#}" y2="{y:0.#}" stroke="#ddd"/>""");
            svg.AppendLine(CultureInfo.InvariantCulture, $"""<text x="{Left - 6}" y="{y + 4:0.#}" text-anchor="end">{value / 1000:0.##}k</text>""");
        }

        for (var i = 0; i < groups.Count; i++)
        {
            var (label, measurement) = groups[i];
            var x = Left + GroupGap + i * pitch;
            Bar(svg, x, measurement!.Service.RequestsPerSecond, "#1f4e79");
            if (measurement.Baseline is { } baseline)
            {
                Bar(svg, x + BarWidth, baseline.RequestsPerSecond, "#9dc3e6");
            }

            svg.AppendLine(CultureInfo.InvariantCulture, $"""<text x="{x + BarWidth}" y="{Height - Bottom + 18}" text-anchor="middle">{WebUtility.HtmlEncode(label)}</text>""");
            if (measurement.Ratio is { } ratio)
            {
                svg.AppendLine(CultureInfo.InvariantCulture, $"""<text x="{x + BarWidth}" y="{Height - Bottom + 34}" text-anchor="middle" fill="#555">{ratio:P0} of baseline</text>""");
            }
        }

        svg.AppendLine("</svg>");
        return svg.ToString();

        void Bar(StringBuilder svg, int x, double value, string colour)
        {
            var barHeight = plot * value / scale;
            svg.AppendLine(CultureInfo.InvariantCulture,
                $"""<rect x="{x}" y="{Top + plot - barHeight:0.#}" width="{BarWidth - 4}" height="{barHeight:0.#}" fill="{colour}"><title>{value:N0} requests/s</title></rect>""");
        }
    }

    /// <summary>
    /// The axis's top and its number of gridlines: steps of 1, 2, 2.5 or 5 times a power of ten, the largest
    /// that still gives at least four, so that the tallest bar fills most of the plot.
    /// </summary>
    private static (double Top, int Ticks) Axis(double peak)
    {
        peak = Math.Max(peak, 1);
        var power = Math.Pow(10, Math.Floor(Math.Log10(peak / 4)));
        var step = new[] { 5, 2.5, 2, 1 }.Select(multiple => multiple * power).First(candidate => candidate <= peak / 4);
        var ticks = (int)Math.Ceiling(peak / step);
        return (ticks * step, ticks);
    }
}
