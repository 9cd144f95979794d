using System.Diagnostics;

namespace Bench;

/// <summary>What a process used while some work ran: its peak resident set and its CPU time.</summary>
internal readonly record struct Usage(long PeakRssBytes, double CpuSeconds)
{
    private static readonly TimeSpan SampleEvery = TimeSpan.FromMilliseconds(100);

    public static async Task<(T Result, Usage Usage)> MeasureAsync<T>(Process process, Func<Task<T>> work)
    {
        process.Refresh();
        var cpuBefore = process.TotalProcessorTime;
        var peak = process.WorkingSet64;
        using var done = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!done.IsCancellationRequested)
            {
                process.Refresh();
                peak = Math.Max(peak, process.WorkingSet64);
                await Task.Delay(SampleEvery, done.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        });

        var result = await work();
        await done.CancelAsync();
        await sampler;
        process.Refresh();
        return (result, new Usage(Math.Max(peak, process.WorkingSet64), (process.TotalProcessorTime - cpuBefore).TotalSeconds));
    }
}
