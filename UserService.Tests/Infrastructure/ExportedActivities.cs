using System.Collections;
using System.Diagnostics;

namespace UserService.Tests.Infrastructure;

/// <summary>Spans an in-memory exporter hands over: it adds from its own thread while the test reads.</summary>
public sealed class ExportedActivities : ICollection<Activity>
{
    private readonly List<Activity> activities = [];

    public int Count { get { lock (activities) { return activities.Count; } } }

    public bool IsReadOnly => false;

    public IReadOnlyList<Activity> Snapshot() { lock (activities) { return [.. activities]; } }

    public void Add(Activity item) { lock (activities) { activities.Add(item); } }

    public void Clear() { lock (activities) { activities.Clear(); } }

    public bool Contains(Activity item) { lock (activities) { return activities.Contains(item); } }

    public void CopyTo(Activity[] array, int arrayIndex) { lock (activities) { activities.CopyTo(array, arrayIndex); } }

    public bool Remove(Activity item) { lock (activities) { return activities.Remove(item); } }

    public IEnumerator<Activity> GetEnumerator() => Snapshot().GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
