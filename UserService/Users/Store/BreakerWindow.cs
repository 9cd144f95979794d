namespace UserService.Users.Store;

/// <summary>
/// How store calls ended over a sliding window, for <see cref="StoreBreaker"/>: counted in ten slices, the
/// oldest dropped as time moves on. A call counts with one increment and no lock; only the first call of a new
/// slice takes the lock, to empty what that slice counted a window ago.
/// </summary>
internal sealed class BreakerWindow
{
    private const int Slices = 10;

    private readonly long sliceTicks;
    private readonly Slice[] slices = new Slice[Slices];
    private readonly Lock gate = new();

    /// <param name="duration">How far back the window reaches.</param>
    /// <param name="timestampFrequency">The ticks a second of the timestamps it is given.</param>
    public BreakerWindow(TimeSpan duration, long timestampFrequency)
    {
        sliceTicks = (long)(duration.TotalSeconds * timestampFrequency / Slices);
        Clear();
    }

    public void Succeeded(long now) => Interlocked.Increment(ref CurrentSlice(now).Successes);

    public void Failed(long now) => Interlocked.Increment(ref CurrentSlice(now).Failures);

    /// <summary>The calls that ended in the window up to <paramref name="now"/>, and how many of them failed.</summary>
    public (int Failures, int Calls) Sampled(long now)
    {
        var (oldest, failures, calls) = (now / sliceTicks - Slices + 1, 0, 0);
        foreach (ref var slice in slices.AsSpan())
        {
            if (Volatile.Read(ref slice.Number) >= oldest)
            {
                failures += Volatile.Read(ref slice.Failures);
                calls += Volatile.Read(ref slice.Failures) + Volatile.Read(ref slice.Successes);
            }
        }

        return (failures, calls);
    }

    /// <summary>Forgets every call counted so far.</summary>
    public void Clear()
    {
        lock (gate)
        {
            foreach (ref var slice in slices.AsSpan())
            {
                (slice.Successes, slice.Failures) = (0, 0);
                Volatile.Write(ref slice.Number, long.MinValue);
            }
        }
    }

    /// <summary>The slice that counts calls ending at <paramref name="now"/>, emptied first if it last counted an older one.</summary>
    private ref Slice CurrentSlice(long now)
    {
        var number = now / sliceTicks;
        ref var slice = ref slices[(int)(number % Slices)];
        if (Volatile.Read(ref slice.Number) != number)
        {
            lock (gate)
            {
                if (slice.Number != number)
                {
                    (slice.Successes, slice.Failures) = (0, 0);
                    Volatile.Write(ref slice.Number, number);
                }
            }
        }

        return ref slice;
    }

    private struct Slice
    {
        public long Number;
        public int Successes;
        public int Failures;
    }
}
