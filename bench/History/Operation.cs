using System.Globalization;

namespace History;

public enum OperationKind
{
    Create,
    Replace,
    Delete,
    Get,
    Lookup,
    Page,
}

/// <summary>
/// A user as an answer showed it. <see cref="Token"/> is its display name, which every write of the workload
/// sets to a value of its own: it names the write that made this version of the user.
/// </summary>
public sealed record Observed(long Id, string Username, string Email, string? Token);

/// <summary>
/// One request and its answer, as the client saw them, timed on the run's clock. The attempts of one logical
/// request (the first and its retries) share <see cref="Logical"/> and send the same body.
/// </summary>
public sealed record Operation
{
    public required int Client { get; init; }

    public required long Logical { get; init; }

    public required OperationKind Kind { get; init; }

    /// <summary>The user a replace, delete or read by id is for; the user a create's 201 made.</summary>
    public long? UserId { get; init; }

    /// <summary>The username a create or replace sends, or a lookup asks for.</summary>
    public string? Username { get; init; }

    public string? Email { get; init; }

    /// <summary>The display name a create or replace writes.</summary>
    public string? Token { get; init; }

    public string? IdempotencyKey { get; init; }

    public string? IfMatch { get; init; }

    public required TimeSpan Start { get; init; }

    public required TimeSpan End { get; init; }

    /// <summary>The answer's status; 0 when none came.</summary>
    public required int Status { get; init; }

    /// <summary>A write's 503 says whether it may have been applied: <c>not-applied</c> or <c>unknown</c>.</summary>
    public string? Outcome { get; init; }

    /// <summary>The users the answer holds.</summary>
    public IReadOnlyList<Observed> Seen { get; init; } = [];

    public bool IsWrite => Kind is OperationKind.Create or OperationKind.Replace or OperationKind.Delete;

    public bool Succeeded => Status is 200 or 201 or 204;

    /// <summary>An answer that says the write was certainly not applied: a refusal, or a 503 that says so.</summary>
    public bool NotApplied => Status is 400 or 404 or 409 or 412 or 422 or 429 || Status == 503 && Outcome == "not-applied";

    public TimeSpan Took => End - Start;

    /// <summary>One line: when, who, what was asked, and what came back.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Start.TotalSeconds:0.000}-{End.TotalSeconds:0.000} client {Client} #{Logical} {Kind} id={UserId} username={Username} email={Email} token='{Token}' key={IdempotencyKey} if-match={IfMatch} -> {Status} {Outcome} [{string.Join("; ", Seen.Select(user => $"{user.Id} {user.Username} {user.Email} '{user.Token}'"))}]");
}
