using History;

namespace UserService.Tests.InProcess.Reliability;

/// <summary>
/// The history checker, on histories written by hand: each promise it judges is broken once, and it says
/// so by name; a history that keeps them all, concurrent writes included, passes.
/// </summary>
public sealed class HistoryCheckerTests
{
    private static long logical;

    [Fact]
    public void HistoryThatKeepsEveryPromisePasses()
    {
        var create = Create(1, 2, 201, "a", id: 1);
        var replace = Replace(3, 4, 200, 1, "b");
        // A replace that began before the read and got no answer may have landed before it, or after the first.
        var unknown = Replace(2.5, 3.5, 503, 1, "c", outcome: "unknown");

        var verdict = Checker.Check(
            [create, replace, unknown, Get(5, 5.1, 1, "c"), Lookup(5, 5.1, "user-c", User(1, "c", "user-c")), Lookup(6, 6.1, "user-a")],
            [User(1, "c", "user-c")],
            ["kill"]);

        Assert.True(verdict.Holds, verdict.ToString());
        Assert.Equal(2, verdict.AcknowledgedWrites);
    }

    [Fact]
    public void AcknowledgedCreateMissingFromTheFinalStateIsLost() =>
        AssertViolation("acknowledged write lost", [Create(1, 2, 201, "a", id: 1)], final: []);

    [Fact]
    public void WriteThatSaidNotAppliedButShowsHasLanded() =>
        AssertViolation("not-applied write landed", [Create(1, 2, 503, "a", outcome: "not-applied")], final: [User(1, "a")]);

    [Fact]
    public void TwoCreatesAnsweredWithOneIdShareIt() =>
        AssertViolation("id issued twice", [Create(1, 2, 201, "a", id: 1), Create(3, 4, 201, "b", id: 1)], final: [User(1, "b")]);

    [Fact]
    public void CreateBegunAfterAnotherWasAcknowledgedWithALowerIdWentBack() =>
        AssertViolation("id went back", [Create(1, 2, 201, "a", id: 10), Create(3, 4, 201, "b", id: 5)], final: [User(10, "a"), User(5, "b")]);

    [Fact]
    public void CreateRetriedWithItsKeyThatRefusesItsOwnUserBreaksIdempotency()
    {
        var key = Guid.NewGuid().ToString();
        var id = Interlocked.Increment(ref logical);
        AssertViolation(
            "retried create refused its own user",
            [Create(1, 2, 503, "a", outcome: "unknown", key: key, group: id), Create(3, 4, 409, "a", key: key, group: id)],
            final: [User(7, "a")]);
    }

    [Fact]
    public void ReadThatBeginsAfterAnAcknowledgedReplaceAndSeesTheVersionBeforeIsStale() =>
        AssertViolation("stale read", [Create(1, 2, 201, "a", id: 1), Replace(3, 4, 200, 1, "b"), Get(5, 5.1, 1, "a")], final: [User(1, "b")]);

    [Fact]
    public void ReadThatFindsAUserAfterItsDeleteWasAcknowledgedIsStale() =>
        AssertViolation("stale read", [Create(1, 2, 201, "a", id: 1), Delete(3, 4, 204, 1), Get(5, 5.1, 1, "a")], final: []);

    [Fact]
    public void LookupThatFindsNobodyAfterACreateOfThatUsernameWasAcknowledgedIsStale() =>
        AssertViolation("stale read", [Create(1, 2, 201, "a", id: 1), Lookup(3, 3.1, "user-a")], final: [User(1, "a")]);

    [Fact]
    public void AnswerAfterMoreThanTwoSecondsIsSlow() =>
        AssertViolation("slower than 2 s", [Create(1, 3.5, 201, "a", id: 1)], final: [User(1, "a")]);

    [Fact]
    public void AnswerOf500IsAServerError() =>
        AssertViolation("5xx other than 503", [Create(1, 2, 500, "a")], final: []);

    [Fact]
    public void TwoUsersWithOneUsernameInTheFinalStateHoldItTwice() =>
        AssertViolation("value held twice", [], final: [User(1, "a", "user-x"), User(2, "b", "user-x")]);

    [Fact]
    public void RequestWithoutAnAnswerBreaksThePromiseOfOne() =>
        AssertViolation("no answer", [Create(1, 2, 201, "a", id: 1), Replace(3, 3.2, 0, 1, "b")], final: [User(1, "b")]);

    [Fact]
    public void RequestCutOffByAKilledReplicaIsExcusedAndItsWriteTakenAsUnknown()
    {
        // The replace was in flight when its replica died: it may have landed, as it did here.
        var history = new[] { Create(1, 2, 201, "a", id: 1), Replace(3, 3.2, 0, 1, "b"), Replace(9, 9.2, 0, 1, "c") };
        var cut = new Window(TimeSpan.FromSeconds(3.1), TimeSpan.FromSeconds(6));

        var verdict = Checker.Check(history, [User(1, "b")], ["kill -9 of a service replica"], [cut]);

        Assert.Equal(["no answer"], verdict.Violations.Keys);
        Assert.Equal(1, verdict.Violations["no answer"].Count);
    }

    [Fact]
    public void SlowAnswerWhileAReplicaIsKilledAndStartedAgainIsExcusedAndOneOutsideItIsNot()
    {
        // The first replace waited while its replica was killed and started again; the second was slow on its own.
        var history = new[] { Create(1, 2, 201, "a", id: 1), Replace(3, 6.5, 200, 1, "b"), Replace(9, 11.5, 200, 1, "c") };
        var cut = new Window(TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(6));

        var verdict = Checker.Check(history, [User(1, "c")], ["kill -9 of a service replica"], [cut]);

        Assert.Equal(["slower than 2 s"], verdict.Violations.Keys);
        Assert.Equal(1, verdict.Violations["slower than 2 s"].Count);
    }

    private static void AssertViolation(string kind, Operation[] history, Observed[] final)
    {
        var verdict = Checker.Check(history, final, []);
        Assert.True(verdict.Violations.ContainsKey(kind), $"Expected '{kind}': {verdict}");
    }

    private static Observed User(long id, string token, string? username = null) =>
        new(id, username ?? "user-" + token, (username ?? "user-" + token) + "@example.com", token);

    private static Operation Create(double start, double end, int status, string token, long? id = null, string? outcome = null, string? key = null, long? group = null) =>
        Operation(OperationKind.Create, start, end, status, group) with
        {
            UserId = status == 201 ? id : null,
            Username = "user-" + token,
            Email = $"user-{token}@example.com",
            Token = token,
            IdempotencyKey = key,
            Outcome = outcome,
            Seen = status == 201 ? [User(id!.Value, token)] : [],
        };

    private static Operation Replace(double start, double end, int status, long id, string token, string? outcome = null) =>
        Operation(OperationKind.Replace, start, end, status) with
        {
            UserId = id,
            Username = "user-" + token,
            Email = $"user-{token}@example.com",
            Token = token,
            Outcome = outcome,
            Seen = status == 200 ? [User(id, token)] : [],
        };

    private static Operation Delete(double start, double end, int status, long id) =>
        Operation(OperationKind.Delete, start, end, status) with { UserId = id };

    private static Operation Get(double start, double end, long id, string? token) =>
        Operation(OperationKind.Get, start, end, token is null ? 404 : 200) with { UserId = id, Seen = token is null ? [] : [User(id, token)] };

    private static Operation Lookup(double start, double end, string username, params Observed[] found) =>
        Operation(OperationKind.Lookup, start, end, 200) with { Username = username, Seen = found };

    private static Operation Operation(OperationKind kind, double start, double end, int status, long? group = null) => new()
    {
        Client = 0,
        Logical = group ?? Interlocked.Increment(ref logical),
        Kind = kind,
        Start = TimeSpan.FromSeconds(start),
        End = TimeSpan.FromSeconds(end),
        Status = status,
    };
}
