
      export type PossibleTypesResultData = {
  "possibleTypes": {
    "AccountEvent": [
      "ContactVerified",
      "EventsMissed",
      "Notification",
      "ProductsUpdated",
      "SessionExpired",
      "SettingsUpdated"
    ],
    "ActivateProductPayload": [
      "ActivateProductSuccess",
      "ProductNotFound",
      "ValidationError"
    ],
    "AuthPayload": [
      "AuthSuccess",
      "InvalidCode",
      "InvalidCredentials",
      "UserDeactivated",
      "UserNotFound",
      "ValidationError",
      "VerificationRequired"
    ],
    "BlockUserPayload": [
      "BlockUserSuccess",
      "UserNotFound",
      "ValidationError"
    ],
    "ConfirmAccountDeletionPayload": [
      "ConfirmAccountDeletionSuccess",
      "InvalidCode",
      "ValidationError"
    ],
    "ConfirmContactChangePayload": [
      "ConfirmContactChangeSuccess",
      "InvalidCode",
      "ValidationError",
      "VerificationRequired"
    ],
    "CreateDatingUserPayload": [
      "AlreadyRegistered",
      "DatingUserCreated",
      "EmailRejected",
      "SiteRateLimited",
      "ValidationError"
    ],
    "DatingRefusalReason": [
      "AlreadyRegistered",
      "EmailRejected",
      "SiteRateLimited",
      "ValidationError"
    ],
    "DeactivateProductPayload": [
      "DeactivateProductSuccess",
      "ProductNotFound",
      "ValidationError"
    ],
    "Error": [
      "AlreadyRegistered",
      "AlreadyVerified",
      "CodeCooldown",
      "DatingRefused",
      "EmailRejected",
      "InvalidCode",
      "InvalidCredentials",
      "JoinDatingInProgress",
      "JoinDatingOutcomeUnknown",
      "ProductNotFound",
      "SiteRateLimited",
      "UserAlreadyExists",
      "UserDeactivated",
      "UserNotFound",
      "ValidationError",
      "VerificationRequired"
    ],
    "JoinDatingPayload": [
      "DatingRefused",
      "JoinDatingInProgress",
      "JoinDatingOutcomeUnknown",
      "JoinDatingSuccess",
      "ProductNotFound",
      "ValidationError"
    ],
    "LogoutPayload": [
      "LogoutSuccess"
    ],
    "RegisterPayload": [
      "RegisterSuccess",
      "UserAlreadyExists",
      "ValidationError"
    ],
    "RequestAccountDeletionPayload": [
      "RequestAccountDeletionSuccess",
      "UserNotFound"
    ],
    "RequestDataArchivePayload": [
      "RequestDataArchiveSuccess",
      "ValidationError"
    ],
    "ResendCodePayload": [
      "AlreadyVerified",
      "CodeCooldown",
      "ResendCodeSuccess",
      "ValidationError"
    ],
    "SetTrackingPayload": [
      "SetTrackingSuccess",
      "ValidationError"
    ],
    "StartPasswordRecoveryPayload": [
      "StartPasswordRecoverySuccess",
      "ValidationError"
    ],
    "UpdateSettingsPayload": [
      "UpdateSettingsSuccess",
      "UserNotFound",
      "ValidationError"
    ]
  }
};
      const result: PossibleTypesResultData = {
  "possibleTypes": {
    "AccountEvent": [
      "ContactVerified",
      "EventsMissed",
      "Notification",
      "ProductsUpdated",
      "SessionExpired",
      "SettingsUpdated"
    ],
    "ActivateProductPayload": [
      "ActivateProductSuccess",
      "ProductNotFound",
      "ValidationError"
    ],
    "AuthPayload": [
      "AuthSuccess",
      "InvalidCode",
      "InvalidCredentials",
      "UserDeactivated",
      "UserNotFound",
      "ValidationError",
      "VerificationRequired"
    ],
    "BlockUserPayload": [
      "BlockUserSuccess",
      "UserNotFound",
      "ValidationError"
    ],
    "ConfirmAccountDeletionPayload": [
      "ConfirmAccountDeletionSuccess",
      "InvalidCode",
      "ValidationError"
    ],
    "ConfirmContactChangePayload": [
      "ConfirmContactChangeSuccess",
      "InvalidCode",
      "ValidationError",
      "VerificationRequired"
    ],
    "CreateDatingUserPayload": [
      "AlreadyRegistered",
      "DatingUserCreated",
      "EmailRejected",
      "SiteRateLimited",
      "ValidationError"
    ],
    "DatingRefusalReason": [
      "AlreadyRegistered",
      "EmailRejected",
      "SiteRateLimited",
      "ValidationError"
    ],
    "DeactivateProductPayload": [
      "DeactivateProductSuccess",
      "ProductNotFound",
      "ValidationError"
    ],
    "Error": [
      "AlreadyRegistered",
      "AlreadyVerified",
      "CodeCooldown",
      "DatingRefused",
      "EmailRejected",
      "InvalidCode",
      "InvalidCredentials",
      "JoinDatingInProgress",
      "JoinDatingOutcomeUnknown",
      "ProductNotFound",
      "SiteRateLimited",
      "UserAlreadyExists",
      "UserDeactivated",
      "UserNotFound",
      "ValidationError",
      "VerificationRequired"
    ],
    "JoinDatingPayload": [
      "DatingRefused",
      "JoinDatingInProgress",
      "JoinDatingOutcomeUnknown",
      "JoinDatingSuccess",
      "ProductNotFound",
      "ValidationError"
    ],
    "LogoutPayload": [
      "LogoutSuccess"
    ],
    "RegisterPayload": [
      "RegisterSuccess",
      "UserAlreadyExists",
      "ValidationError"
    ],
    "RequestAccountDeletionPayload": [
      "RequestAccountDeletionSuccess",
      "UserNotFound"
    ],
    "RequestDataArchivePayload": [
      "RequestDataArchiveSuccess",
      "ValidationError"
    ],
    "ResendCodePayload": [
      "AlreadyVerified",
      "CodeCooldown",
      "ResendCodeSuccess",
      "ValidationError"
    ],
    "SetTrackingPayload": [
      "SetTrackingSuccess",
      "ValidationError"
    ],
    "StartPasswordRecoveryPayload": [
      "StartPasswordRecoverySuccess",
      "ValidationError"
    ],
    "UpdateSettingsPayload": [
      "UpdateSettingsSuccess",
      "UserNotFound",
      "ValidationError"
    ]
  }
};
      export default result;
    